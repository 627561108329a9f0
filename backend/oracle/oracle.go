// Package oracle finds the external test oracles (Microsoft's schemas and
// examples) that tests check our emulators and output against.
package oracle

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the oracle directory: $WEBSCHEDULER_ORACLES, or
// ../shared/oracles beside the module root. It returns "" when absent.
func Dir() string {
	if d := os.Getenv("WEBSCHEDULER_ORACLES"); d != "" {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		return ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			o := filepath.Join(d, "..", "shared", "oracles")
			if st, err := os.Stat(o); err == nil && st.IsDir() {
				return o
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Path returns the path of an oracle file, or skips the test with the
// reason when the oracles are absent.
func Path(t testing.TB, rel string) string {
	t.Helper()
	d := Dir()
	if d == "" {
		t.Skipf("oracles not found (set WEBSCHEDULER_ORACLES or put shared/oracles beside the repository): %s unavailable", rel)
	}
	p := filepath.Join(d, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("oracle %s not found: %v", rel, err)
	}
	return p
}
