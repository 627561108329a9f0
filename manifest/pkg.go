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
	files := []struct {
		name string
		body func() ([]byte, error)
	}{
		{"manifest.json", func() ([]byte, error) { return m, nil }},
		{packageColorIcon, func() ([]byte, error) { return fs.ReadFile(addin.Files, "assets/color.png") }},
		{packageOutlineIcon, func() ([]byte, error) { return fs.ReadFile(addin.Files, "assets/outline.png") }},
	}
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, f := range files {
		body, err := f.body()
		if err != nil {
			return nil, err
		}
		w, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
