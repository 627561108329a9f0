package addin

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite launchevent.classic.js")

// classicModules are the modules the event handlers need, each after the
// ones it imports.
var classicModules = []string{"joinblock.js", "auth.js", "api.js", "compose.js", "meeting.js", "launchevent.js"}

const classicFile = "launchevent.classic.js"

var (
	importLine = regexp.MustCompile(`^import \{[^}]*\} from "\./[a-z]+\.js";$`)
	exportDecl = regexp.MustCompile(`^export (async function|function|const|class) `)
)

// classicRuntime joins the modules into one classic script: their own
// imports go (the names are in the shared scope), "export" goes, and the
// whole runs in a function so that nothing leaks into the global scope.
// Modules may only use the forms it understands, which it checks.
func classicRuntime() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Generated from %s by `go test ./addin -run TestClassicRuntime -update`. Do not edit.\n", strings.Join(classicModules, ", "))
	b.WriteString("// Classic Outlook on Windows runs event handlers in a JavaScript-only runtime that loads one classic script.\n")
	b.WriteString("(function () {\n\"use strict\";\n")
	for _, name := range classicModules {
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "\n// ---- %s\n", name)
		for i, line := range strings.Split(strings.TrimRight(string(src), "\n"), "\n") {
			switch {
			case importLine.MatchString(line):
				continue
			case strings.HasPrefix(line, "import"), strings.Contains(line, "import.meta"), strings.Contains(line, "await import("):
				return nil, fmt.Errorf("%s:%d: only single-line named imports of sibling modules can be bundled: %s", name, i+1, line)
			case exportDecl.MatchString(line):
				line = strings.TrimPrefix(line, "export ")
			case strings.HasPrefix(line, "export"):
				return nil, fmt.Errorf("%s:%d: only exported declarations can be bundled: %s", name, i+1, line)
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	b.WriteString("})();\n")
	return b.Bytes(), nil
}

func TestClassicRuntime(t *testing.T) {
	t.Parallel()
	want, err := classicRuntime()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(classicFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Files.ReadFile(classicFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) && !*update {
		t.Errorf("%s is stale: run go test ./addin -run TestClassicRuntime -update", classicFile)
	}
}

func TestFiles(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"taskpane.html", "taskpane.js", "taskpane.css", "commands.html", "launchevent.js", classicFile, "i18n/ja-JP.js", "assets/icon-80.png"} {
		if _, err := fs.Stat(Files, name); err != nil {
			t.Errorf("%s not embedded: %v", name, err)
		}
	}
	if _, err := fs.Stat(Files, "test"); err == nil {
		t.Error("test/ must not be embedded")
	}
	// Only Office.js may come from another origin.
	thirdParty := regexp.MustCompile(`(?:src|href)="(https?:)?//`)
	officeJS := `src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"`
	_ = fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".html") {
			return err
		}
		b, _ := Files.ReadFile(path)
		if n := len(thirdParty.FindAll(b, -1)); n != bytes.Count(b, []byte(officeJS)) {
			t.Errorf("%s loads something from another origin than Office.js's", path)
		}
		return nil
	})
}

// TestTypeCheck runs tsc --noEmit over the add-in's JSDoc types.
func TestTypeCheck(t *testing.T) {
	tsc := filepath.Join("test", "node_modules", ".bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		t.Fatalf("TypeScript is not installed in addin/test/node_modules: run `make test` (or scripts/addin-test.sh), which runs npm ci there")
	}
	cmd := exec.Command(tsc, "--noEmit", "-p", filepath.Join("test", "tsconfig.json"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc --noEmit: %v\n%s", err, out)
	}
}
