package manifest

import (
	"archive/zip"
	"bytes"
	"io/fs"
	"time"

	"github.com/webscheduler/webscheduler/addin"
)

// Package is the app package admins upload for the unified manifest: a
// zip with manifest.json and the two icons it names at its root, as the
// Microsoft 365 admin center and Teams admin center take it. The entries'
// times are fixed, so one deployment always gives the same bytes.
func Package(c Config) ([]byte, error) {
	m, err := JSON(c)
	if err != nil {
		return nil, err
	}
	color, err := fs.ReadFile(addin.Files, "assets/"+packageColorIcon)
	if err != nil {
		return nil, err
	}
	outline, err := fs.ReadFile(addin.Files, "assets/"+packageOutlineIcon)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, f := range []struct {
		name string
		body []byte
	}{{"manifest.json", m}, {packageColorIcon, color}, {packageOutlineIcon, outline}} {
		w, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.body); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
