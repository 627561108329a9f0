package joininfo

import (
	"strings"
	"testing"
)

func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, locale := range []string{"en", "de", "fr", "ja"} {
		t.Run(locale, func(t *testing.T) {
			t.Parallel()
			b := mustRender(t, locale, testMeeting)
			golden(t, "render/"+locale+".html", b.HTML)
			golden(t, "render/"+locale+".txt", b.Text)
			if strings.Contains(strings.ReplaceAll(b.Text, "\r\n", ""), "\n") {
				t.Error("the text block has a line that does not end in CRLF")
			}
			minimal := mustRender(t, locale, Meeting{JoinURL: "https://meet.example.com/j/1"})
			checkOneBlock(t, Replace("", BodyHTML, minimal), BodyHTML)
			checkOneBlock(t, Replace("", BodyText, minimal), BodyText)
		})
	}
}

func TestRenderEscapes(t *testing.T) {
	t.Parallel()
	m := Meeting{
		Subject:       `<img src=x onerror=alert(1)>`,
		OrganizerName: `"><script>alert(1)</script>`,
		JoinURL:       "https://meet.example.com/j/1",
		DialIn:        []DialIn{{Region: "<b>bold</b>", Number: `+1 555 0100" onclick="alert(1)`}},
	}
	b := mustRender(t, "en", m)
	for _, it := range scan(b.HTML) {
		if it.kind == startTag && it.name != "div" && it.name != "a" {
			t.Errorf("a value became a <%s> tag", it.name)
		}
		if it.kind == startTag && strings.Contains(strings.ToLower(b.HTML[it.start:it.end]), "onclick") {
			t.Errorf("a value became an attribute: %s", b.HTML[it.start:it.end])
		}
		if it.kind == other {
			t.Errorf("a value became markup: %s", b.HTML[it.start:it.end])
		}
	}
	v := visibleOf(b.HTML, BodyHTML)
	for _, s := range []string{m.Subject, m.OrganizerName, m.DialIn[0].Region} {
		if !strings.Contains(v, s) {
			t.Errorf("HTML block does not show %q as text", s)
		}
		if !strings.Contains(b.Text, s) {
			t.Errorf("text block does not show %q literally", s)
		}
	}
}

func TestRenderRejectsURLs(t *testing.T) {
	t.Parallel()
	for _, m := range []Meeting{
		{},
		{JoinURL: "javascript:alert(1)"},
		{JoinURL: "JavaScript:alert(1)"},
		{JoinURL: "data:text/html,<script>alert(1)</script>"},
		{JoinURL: "//meet.example.com/j/1"},
		{JoinURL: "/j/1"},
		{JoinURL: "https:///j/1"},
		{JoinURL: "https://meet.example.com/j/1", DialInURL: "javascript:alert(1)"},
		{JoinURL: "https://meet.example.com/j/1", HelpURL: "vbscript:msgbox"},
		{JoinURL: "https://meet.example.com/j/1", ConferenceID: strings.Repeat("9", maxIDLen+1)},
		// A marker in a URL would end the text block early; URLs cannot be defanged.
		{JoinURL: "https://meet.example.com/j/[/webscheduler]"},
	} {
		if b, err := DefaultTemplates().Render("en", m); err == nil {
			t.Errorf("Render(%+v) succeeded:\n%s", m, b.Text)
		}
	}
}

// html/template neutralises javascript: URLs on its own; Render's URL check
// also keeps them out of the text block.
func TestHTMLTemplateNeutralisesJavaScriptURLs(t *testing.T) {
	t.Parallel()
	tmpl, err := ParseTemplates(map[string]string{"en": `<a href="{{.Subject}}">x</a>`}, map[string]string{"en": `{{.JoinURL}}`})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.Render("en", Meeting{Subject: "javascript:alert(1)", JoinURL: "https://meet.example.com/j/1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.HTML, "javascript:") || !strings.Contains(b.HTML, "#ZgotmplZ") {
		t.Errorf("javascript: URL not neutralised:\n%s", b.HTML)
	}
}

func TestRenderLocaleFallback(t *testing.T) {
	t.Parallel()
	for locale, want := range map[string]string{
		"de-DE":      "Telefonisch teilnehmen",
		"DE":         "Telefonisch teilnehmen",
		"fr_CA":      "Rejoindre par téléphone",
		"ja-JP":      "電話で参加",
		"zh-Hant-TW": "Join by phone",
		"pt-BR":      "Join by phone",
		"":           "Join by phone",
	} {
		if b := mustRender(t, locale, testMeeting); !strings.Contains(b.Text, want) || !strings.Contains(b.HTML, want) {
			t.Errorf("locale %q: block does not contain %q:\n%s", locale, want, b.Text)
		}
	}
	tmpl := DefaultTemplates()
	for locale, want := range map[string]string{"de-DE": "de", "DE": "de", "fr_CA": "fr", "ja": "ja", "pt-BR": "en", "": "en"} {
		if got := tmpl.Resolve(locale); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", locale, got, want)
		}
	}
}

func TestParseTemplatesErrors(t *testing.T) {
	t.Parallel()
	const ok = `{{.JoinURL}}`
	for name, c := range map[string]struct{ html, text map[string]string }{
		"no en":             {map[string]string{"de": ok}, map[string]string{"de": ok}},
		"html only":         {map[string]string{"en": ok, "de": ok}, map[string]string{"en": ok}},
		"parse error":       {map[string]string{"en": `{{.JoinURL`}, map[string]string{"en": ok}},
		"unknown field":     {map[string]string{"en": ok}, map[string]string{"en": `{{.Nope}}`}},
		"unclosed div":      {map[string]string{"en": `<div>{{.JoinURL}}`}, map[string]string{"en": ok}},
		"crossed tags":      {map[string]string{"en": `<b><i>{{.JoinURL}}</b></i>`}, map[string]string{"en": ok}},
		"unclosed comment":  {map[string]string{"en": `{{.JoinURL}}<!--`}, map[string]string{"en": ok}},
		"marker in html":    {map[string]string{"en": `[/webscheduler]`}, map[string]string{"en": ok}},
		"marker in text":    {map[string]string{"en": ok}, map[string]string{"en": `[webscheduler:1]`}},
		"empty locale":      {map[string]string{"en": ok, " ": ok}, map[string]string{"en": ok, " ": ok}},
		"duplicate locale":  {map[string]string{"en": ok, "de-DE": ok, "de_de": ok}, map[string]string{"en": ok, "de-de": ok}},
		"unbalanced branch": {map[string]string{"en": `{{if .DialIn}}<div>{{end}}{{.JoinURL}}{{if .DialIn}}</div>{{else}}</div>{{end}}`}, map[string]string{"en": ok}},
	} {
		if _, err := ParseTemplates(c.html, c.text); err == nil {
			t.Errorf("%s: ParseTemplates succeeded", name)
		}
	}
}

// An admin's template knows nothing of markers; Render adds them.
func TestCustomTemplateBlockIsFindable(t *testing.T) {
	t.Parallel()
	tmpl, err := ParseTemplates(
		map[string]string{"en": `<p>Join: <a href="{{.JoinURL}}">{{.JoinURL}}</a></p>`, "de-CH": `<p>Beitreten: {{.JoinURL}}</p>`},
		map[string]string{"en": "Join: {{.JoinURL}}", "de-CH": "Beitreten: {{.JoinURL}}"},
	)
	if err != nil {
		t.Fatal(err)
	}
	b, err := tmpl.Render("de-ch", Meeting{JoinURL: "https://meet.example.com/j/1", ConferenceID: "1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Text, "Beitreten") {
		t.Errorf("de-ch template not used:\n%s", b.Text)
	}
	for _, typ := range []BodyType{BodyHTML, BodyText} {
		body := "Agenda"
		out := Replace(body, typ, b)
		checkOneBlock(t, out, typ)
		if got := Remove(out, typ); got != body {
			t.Errorf("%s: Remove = %q, want %q", typ, got, body)
		}
	}
}

// A subject that spells a marker must not end the block early.
func TestRenderDefangsMarkers(t *testing.T) {
	t.Parallel()
	m := Meeting{
		Subject:      "[/webscheduler] and [webscheduler:1]",
		JoinURL:      "https://meet.example.com/j/1",
		ConferenceID: "[webscheduler]",
		DialIn:       []DialIn{{Number: "+1 555 0100", Region: "[/webscheduler]"}},
	}
	b := mustRender(t, "en", m)
	for _, typ := range []BodyType{BodyHTML, BodyText} {
		body := "Agenda"
		out := Replace(body, typ, b)
		checkOneBlock(t, out, typ)
		if got := Remove(out, typ); got != body {
			t.Errorf("%s: Remove = %q, want %q", typ, got, body)
		}
		if id, _ := ConferenceIDOf(out, typ); id != m.ConferenceID {
			t.Errorf("%s: ConferenceIDOf = %q, want %q", typ, id, m.ConferenceID)
		}
	}
	if !strings.Contains(b.Text, "(/webscheduler] and (webscheduler:1]") {
		t.Errorf("subject not shown defanged:\n%s", b.Text)
	}
}

func TestTel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ number, id, want string }{
		{"+1 323-886-7531", "291 633 251#", "tel:+13238867531,,291633251#"},
		{"0800 123", "", "tel:0800123"},
		{`+1 555" onclick="x`, "", "tel:+1555"},
		{"call us", "1", ""},
	} {
		if got := tel(c.number, c.id); got != c.want {
			t.Errorf("tel(%q, %q) = %q, want %q", c.number, c.id, got, c.want)
		}
	}
}
