package conferencing_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/conferencing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("differs from %s:\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestLoadSettingsGolden(t *testing.T) {
	t.Parallel()
	s, err := conferencing.LoadSettings(filepath.Join("testdata", "settings", "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join("settings", "sample.golden.json"), append(got, '\n'))
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// validTemplate is a minimal valid template section, for cases that break
// something else.
const validTemplate = `
template:
  joinUrl: https://meet.contoso.example/{conference_id}
  conferenceIdLength: 7
  passcode: {policy: none}
  room: "{conference_id}"
`

func TestLoadSettingsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"empty file", "", []string{"template.conferenceIdLength: 0", "template.passcode.policy", "template.room", "template.joinUrl: \"\" is required"}},
		{"syntax", "provider: [template", []string{"yaml"}},
		{"unknown key", "provider: template\nprovder: teams\n" + validTemplate, []string{"field provder not found"}},
		{"unknown nested key", "template:\n  joinURL: https://x.example/{conference_id}\n", []string{"field joinURL not found"}},
		{"wrong type", "template:\n  conferenceIdLength: seven\n", []string{"cannot unmarshal"}},
		{"duplicate key", "provider: template\nprovider: teams\n", []string{"already defined"}},
		{"provider", "provider: lync\n", []string{`provider: "lync" is neither`}},
		{"id too short", strings.Replace(validTemplate, "conferenceIdLength: 7", "conferenceIdLength: 4", 1), []string{"template.conferenceIdLength: 4 is not between 5 and 12"}},
		{"id too long", strings.Replace(validTemplate, "conferenceIdLength: 7", "conferenceIdLength: 13", 1), []string{"template.conferenceIdLength: 13"}},
		{"passcode policy", strings.Replace(validTemplate, "policy: none", "policy: sometimes", 1), []string{`template.passcode.policy: "sometimes"`}},
		{"passcode too short", strings.Replace(validTemplate, "policy: none", "policy: required, length: 3", 1), []string{"template.passcode.length: 3 is not between 4 and 12"}},
		{"passcode without length", strings.Replace(validTemplate, "policy: none", "policy: optional", 1), []string{"template.passcode.length: 0"}},
		{"length with none", strings.Replace(validTemplate, "policy: none", "policy: none, length: 6", 1), []string{"must not be set when the policy is \"none\""}},
		{"room without id", strings.Replace(validTemplate, `room: "{conference_id}"`, "room: lobby", 1), []string{"template.room: \"lobby\" lacks {conference_id}"}},
		{"room upper case", strings.Replace(validTemplate, `room: "{conference_id}"`, "room: Room-{conference_id}", 1), []string{"template.room: \"Room-{conference_id}\" may hold only"}},
		{"room with user", strings.Replace(validTemplate, `room: "{conference_id}"`, "room: \"{sip_user}-{conference_id}\"", 1), []string{"may hold only"}},
		{"room too long", strings.Replace(validTemplate, `room: "{conference_id}"`, "room: "+strings.Repeat("r", 60)+"{conference_id}", 1), []string{"longer than 64"}},
		{"join URL http", strings.Replace(validTemplate, "https://meet", "http://meet", 1), []string{"template.joinUrl: \"http://meet.contoso.example/{conference_id}\" must use https"}},
		{"join URL shared", strings.Replace(validTemplate, "/{conference_id}", "/{sip_user}", 1), []string{"lacks {conference_id} or {room}"}},
		{"join URL placeholder", strings.Replace(validTemplate, "/{conference_id}", "/{conference_id}/{meeting}", 1), []string{"has an unknown placeholder {meeting}"}},
		{"join URL relative", strings.Replace(validTemplate, "https://meet.contoso.example/", "/join/", 1), []string{"not an absolute URL"}},
		{"join URL with password", strings.Replace(validTemplate, "https://meet", "https://u:p@meet", 1), []string{"user name or password"}},
		{"join URL bad room", "template:\n  joinUrl: https://x.example/{room}\n  conferenceIdLength: 7\n  passcode: {policy: none}\n  room: Bad\n", []string{"uses {room}, but template.room is invalid"}},
		{"dial-in", validTemplate + `
dialIn:
  url: ftp://dialin.contoso.example/
  numbers:
    - {region: "", country: usa, number: "206-555-0100", language: "english language"}
    - {region: Paris, country: FR, number: "+33 1 99 00 01 00"}
    - {region: Paris again, country: FR, number: "+33 199000100"}
    - {region: Short, country: FR, number: "+33 12"}
`, []string{
			"dialIn.url: \"ftp://dialin.contoso.example/\" must use https",
			"dialIn.numbers[0]: region is required",
			"dialIn.numbers[0]: country \"usa\"",
			"dialIn.numbers[0]: number \"206-555-0100\"",
			"dialIn.numbers[0]: language \"english language\"",
			"dialIn.numbers[2]: number +33 199000100 is listed twice",
			"dialIn.numbers[3]: number \"+33 12\"",
		}},
		{"help URL", validTemplate + "helpUrl: http://help.contoso.example/\n", []string{"helpUrl: \"http://help.contoso.example/\" must use https"}},
		{"jitsi domain", validTemplate + "jitsi: {enabled: true, conferenceDomain: Conference..example}\n", []string{"jitsi.conferenceDomain: \"Conference..example\""}},
		{"jitsi IP", validTemplate + "jitsi: {enabled: true, conferenceDomain: 10.0.0.1}\n", []string{"jitsi.conferenceDomain"}},
		{"two documents", validTemplate + "---\nprovider: teams\n", []string{"more than one YAML document"}},
		{"teams checks a template it has", "provider: teams\ntemplate: {conferenceIdLength: 3}\n", []string{"template.conferenceIdLength: 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeFile(t, tt.yaml)
			s, err := conferencing.LoadSettings(path)
			if err == nil {
				t.Fatalf("LoadSettings = %+v, want an error", s)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadSettingsValid(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml string }{
		{"minimal template", validTemplate},
		{"teams alone", "provider: teams\n"},
		{"teams with Jitsi", "provider: teams\njitsi: {enabled: true, conferenceDomain: conference.meet.contoso.example}\n"},
		{"document marker", "---\n" + validTemplate},
		{"local http", strings.Replace(validTemplate, "https://meet.contoso.example", "http://localhost:8080", 1)},
		{"loopback http", strings.Replace(validTemplate, "https://meet.contoso.example", "http://127.0.0.1:8080", 1)},
		{"every placeholder", strings.Replace(validTemplate, "/{conference_id}", "/{sip_domain}/{sip_user}/{conference_id}#{room}", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := conferencing.LoadSettings(writeFile(t, tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if s.Provider == "" {
				t.Error("provider left empty; want the default")
			}
		})
	}
}

func TestLoadSettingsMissingFile(t *testing.T) {
	t.Parallel()
	if _, err := conferencing.LoadSettings(filepath.Join(t.TempDir(), "absent.yaml")); err == nil {
		t.Fatal("no error for a missing file")
	}
}

func TestSandboxSettings(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"http://localhost:8080", "http://localhost:8080/", "https://scheduler.contoso.example"} {
		s := conferencing.SandboxSettings(base)
		if err := s.Validate(); err != nil {
			t.Errorf("SandboxSettings(%q) invalid: %v", base, err)
		}
		if want := strings.TrimSuffix(base, "/") + "/join/{conference_id}"; s.Template.JoinURL != want {
			t.Errorf("join URL = %q, want %q", s.Template.JoinURL, want)
		}
		if !s.Jitsi.Enabled || len(s.DialIn.Numbers) < 4 {
			t.Errorf("sandbox settings lack Jitsi or dial-in numbers: %+v", s)
		}
	}
}
