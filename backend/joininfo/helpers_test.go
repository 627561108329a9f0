package joininfo

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// testMeeting has values that need escaping everywhere.
var testMeeting = Meeting{
	Subject:       `Design review <img src=x onerror=alert(1)> & "quotes" 'too'`,
	OrganizerName: "Zoë O'Brien",
	JoinURL:       "https://meet.example.com/j/291633251?pwd=a1&lang=en",
	ConferenceID:  "291 633 251",
	Passcode:      "4821",
	DialInURL:     "https://meet.example.com/dialin?id=291633251",
	HelpURL:       "https://meet.example.com/help",
	DialIn: []DialIn{
		{Region: "United States, Los Angeles", Number: "+1 323-886-7531", Language: "English"},
		{Region: "Deutschland", Number: "+49 800 123 4567", Language: "Deutsch", TollFree: true},
	},
}

// otherMeeting replaces testMeeting's block in the tests.
var otherMeeting = Meeting{
	Subject:      "Rescheduled",
	JoinURL:      "https://meet.example.com/j/775120066",
	ConferenceID: "775120066",
}

func mustRender(t testing.TB, locale string, m Meeting) Block {
	t.Helper()
	b, err := DefaultTemplates().Render(locale, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (b Block) of(typ BodyType) string {
	if typ.isText() {
		return b.Text
	}
	return b.HTML
}

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it, then review the diff)\ngot:\n%s", file, got)
	}
}

// oracleBodyDir returns the directory of the oracle event bodies: under
// $WEBSCHEDULER_ORACLES, or else ../shared/oracles beside the module root.
func oracleBodyDir() (string, error) {
	root := os.Getenv("WEBSCHEDULER_ORACLES")
	if root == "" {
		dir, err := os.Getwd()
		if err != nil {
			return "", err
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return "", errors.New("no go.mod above the working directory")
			}
			dir = parent
		}
		root = filepath.Join(dir, "..", "shared", "oracles")
	}
	dir := filepath.Join(root, "event-bodies")
	_, err := os.Stat(dir)
	return dir, err
}

// oracleBodies returns the oracle bodies by file name, or skips the test.
func oracleBodies(t testing.TB) map[string]string {
	dir, err := oracleBodyDir()
	if err != nil {
		t.Skipf("oracle event bodies not available: %v (set WEBSCHEDULER_ORACLES to the oracles directory)", err)
	}
	bodies, err := readOracleBodies(dir)
	if err != nil {
		t.Fatal(err)
	}
	return bodies
}

func readOracleBodies(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	bodies := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README.md" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		bodies[e.Name()] = string(b)
	}
	return bodies, nil
}

// oracleType is a body's type by its file name: .html bodies are HTML,
// .txt bodies text.
func oracleType(name string) BodyType {
	if strings.HasSuffix(name, ".html") {
		return BodyHTML
	}
	return BodyText
}

// visibleOf is the text a reader sees in body.
func visibleOf(body string, typ BodyType) string {
	if typ.isText() {
		return body
	}
	return project(body, scan(body)).text
}

// words is s without any white space, for comparing text that Exchange may
// have reflowed.
func words(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// checkOneBlock checks that body holds exactly one start and one end marker,
// and that Find finds the block between them.
func checkOneBlock(t *testing.T, body string, typ BodyType) {
	t.Helper()
	v := visibleOf(body, typ)
	if b, e := strings.Count(v, beginStem), strings.Count(v, endMarker); b != 1 || e != 1 {
		t.Fatalf("want one start and one end marker, got %d and %d in:\n%s", b, e, body)
	}
	s, e, ok := Find(body, typ)
	if !ok {
		t.Fatalf("Find found no block in:\n%s", body)
	}
	if hasMarker(visibleOf(body[:s]+body[e:], typ)) {
		t.Fatalf("Find's region [%d,%d) leaves a marker outside:\n%s", s, e, body)
	}
}
