package emugraph

import (
	"os"
	"path/filepath"
	"testing"
)

// OraclePath is the path of a file of the shared test oracles: below
// $WEBSCHEDULER_ORACLES, or ../shared/oracles from the module root. A test
// that needs a missing oracle is skipped with the reason. (Exported to the
// external tests only: this is a _test file.)
func OraclePath(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("WEBSCHEDULER_ORACLES")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for dir = wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			if filepath.Dir(dir) == dir {
				t.Fatal("no go.mod above the package directory")
			}
		}
		dir = filepath.Join(dir, "..", "shared", "oracles")
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("oracle %s is not available (set WEBSCHEDULER_ORACLES): %v", path, err)
	}
	return path
}

func oracleFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(OraclePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
