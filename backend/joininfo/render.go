// Package joininfo renders online-meeting join information (join link,
// dial-in numbers, conference ID, passcode) from localisable templates, and
// keeps exactly one copy of it in a calendar item's body. Exchange rewrites
// the body between reads, so the block must still be found after that.
package joininfo

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"maps"
	"net/url"
	"slices"
	"strings"
	texttemplate "text/template"
)

// DialIn is one number to join by phone.
type DialIn struct {
	Region   string // "United States, Los Angeles"
	Number   string // as shown, "+1 323-886-7531"
	Language string // the language of the audio prompts
	TollFree bool
}

// Meeting is what a join block shows. Its strings come from users and
// conferencing systems, so templates get them escaped: html/template escapes
// for HTML, and the text block shows them literally.
type Meeting struct {
	Subject       string
	OrganizerName string
	JoinURL       string // required; http or https
	ConferenceID  string // also recorded in the block's start marker
	Passcode      string
	DialInURL     string // the "find a local number" page; http or https
	HelpURL       string // http or https
	DialIn        []DialIn
	// Lobby and PhoneBypass are the lobby settings (who waits in the lobby,
	// whether callers skip it). They are for admins' templates. The built-in
	// templates do not show them, just as Teams invitations do not.
	Lobby       string
	PhoneBypass bool
}

// Block is a rendered join block, markers included, ready for Replace.
type Block struct {
	HTML string
	Text string // lines end in CRLF, as in Exchange's text bodies
}

// Templates holds the HTML and text template of each locale. Locales are
// lower case with "-" ("de-de"). "en" is always there and is the last
// fallback. Make one with DefaultTemplates or ParseTemplates. It is safe
// for concurrent use.
type Templates struct {
	html map[string]*htmltemplate.Template
	text map[string]*texttemplate.Template
}

const fallbackLocale = "en"

//go:embed templates
var builtin embed.FS

// DefaultTemplates returns the built-in templates for en, de, fr and ja. It
// parses and checks them on each call, so callers keep the result.
func DefaultTemplates() *Templates {
	htmlSrc, textSrc := DefaultSources()
	t, err := ParseTemplates(htmlSrc, textSrc)
	if err != nil {
		panic(fmt.Sprintf("joininfo: built-in templates: %v", err))
	}
	return t
}

// ParseTemplates parses an admin's templates. Both maps are keyed by locale
// ("en", "de-CH", …) and must have the same locales, "en" among them. Each
// template is rendered with sample meetings, and must give HTML whose tags
// pair up. Otherwise a stray tag could hide the block's end marker. All
// problems are reported together. A template does not write the block
// markers: Render adds them around its output.
func ParseTemplates(htmlByLocale, textByLocale map[string]string) (*Templates, error) {
	t := &Templates{html: map[string]*htmltemplate.Template{}, text: map[string]*texttemplate.Template{}}
	var errs []error
	locales := map[string]bool{}
	for _, loc := range slices.Sorted(maps.Keys(htmlByLocale)) {
		key := normalizeLocale(loc)
		tmpl, err := htmltemplate.New(key).Funcs(htmltemplate.FuncMap{"tel": htmlTel}).Parse(htmlByLocale[loc])
		errs = append(errs, register(t.html, key, tmpl, err, "HTML", loc))
		locales[key] = true
	}
	for _, loc := range slices.Sorted(maps.Keys(textByLocale)) {
		key := normalizeLocale(loc)
		tmpl, err := texttemplate.New(key).Funcs(texttemplate.FuncMap{"tel": tel}).Parse(textByLocale[loc])
		errs = append(errs, register(t.text, key, tmpl, err, "text", loc))
		locales[key] = true
	}
	for _, loc := range slices.Sorted(maps.Keys(locales)) {
		_, okHTML := t.html[loc]
		_, okText := t.text[loc]
		if okHTML != okText {
			errs = append(errs, fmt.Errorf("joininfo: locale %q needs both an HTML and a text template", loc))
		}
	}
	if !locales[fallbackLocale] {
		errs = append(errs, fmt.Errorf("joininfo: no %q templates: they are the fallback for every other locale", fallbackLocale))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for _, loc := range slices.Sorted(maps.Keys(locales)) {
		for _, m := range sampleMeetings() {
			if _, err := t.Render(loc, m); err != nil {
				errs = append(errs, fmt.Errorf("joininfo: locale %q with a sample meeting: %w", loc, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return t, nil
}

func register[T any](m map[string]T, key string, tmpl T, err error, format, loc string) error {
	switch _, dup := m[key]; {
	case err != nil:
		return fmt.Errorf("joininfo: %s template for %q: %w", format, loc, err)
	case key == "":
		return fmt.Errorf("joininfo: %s template with an empty locale", format)
	case dup:
		return fmt.Errorf("joininfo: two %s templates for locale %q", format, key)
	}
	m[key] = tmpl
	return nil
}

// Render renders m in the given locale, falling back from "de-DE" to "de"
// to "en". It fails when a URL is not http(s): html/template would only
// defuse such a URL in the HTML, and the text block would still show it.
func (t *Templates) Render(locale string, m Meeting) (Block, error) {
	if err := m.validate(); err != nil {
		return Block{}, err
	}
	id := m.ConferenceID
	m = m.defanged()
	loc := t.resolve(locale)
	var h, x strings.Builder
	if err := t.html[loc].Execute(&h, m); err != nil {
		return Block{}, fmt.Errorf("joininfo: HTML template %q: %w", loc, err)
	}
	if err := t.text[loc].Execute(&x, m); err != nil {
		return Block{}, fmt.Errorf("joininfo: text template %q: %w", loc, err)
	}
	htmlContent := strings.TrimSpace(h.String())
	textContent := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(x.String(), "\r\n", "\n"), "\n", "\r\n"))
	items := scan(htmlContent)
	if !balanced(items) {
		return Block{}, fmt.Errorf("joininfo: HTML template %q: its tags do not pair up, or it leaves a comment, tag or <style> open", loc)
	}
	if hasMarker(project(htmlContent, items).text) || hasMarker(textContent) {
		return Block{}, fmt.Errorf("joininfo: template %q writes a block marker, or a URL contains one", loc)
	}
	return Block{HTML: wrapHTML(id, htmlContent), Text: wrapText(id, textContent)}, nil
}

// balanced reports whether the tags in items pair up and nothing is left
// open at the end.
func balanced(items []item) bool {
	closes, opens, ok := nesting(items)
	if !ok || len(closes) > 0 || len(opens) > 0 {
		return false
	}
	return len(items) == 0 || !items[len(items)-1].open
}

// Resolve is the locale whose templates render locale: itself, a parent
// ("de-DE" falls back to "de") or the fallback.
func (t *Templates) Resolve(locale string) string { return t.resolve(locale) }

func (t *Templates) resolve(locale string) string {
	for l := normalizeLocale(locale); l != ""; {
		if _, ok := t.html[l]; ok {
			return l
		}
		i := strings.LastIndexByte(l, '-')
		if i < 0 {
			break
		}
		l = l[:i]
	}
	return fallbackLocale
}

func normalizeLocale(l string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(l), "_", "-"))
}

func (m Meeting) validate() error {
	errs := []error{
		checkURL("join URL", m.JoinURL, true),
		checkURL("dial-in URL", m.DialInURL, false),
		checkURL("help URL", m.HelpURL, false),
	}
	if n := len(url.QueryEscape(m.ConferenceID)); n > maxIDLen {
		errs = append(errs, fmt.Errorf("joininfo: conference ID is %d bytes escaped, more than %d", n, maxIDLen))
	}
	return errors.Join(errs...)
}

func checkURL(what, raw string, required bool) error {
	if raw == "" && !required {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("joininfo: %s %q is not an absolute http(s) URL", what, raw)
	}
	return nil
}

// defanged returns m with block markers in its strings broken up, so that a
// subject such as "[/webscheduler]" cannot end the block early. URLs are
// left alone: changing them would break them, so Render rejects them.
func (m Meeting) defanged() Meeting {
	for _, s := range []*string{&m.Subject, &m.OrganizerName, &m.ConferenceID, &m.Passcode, &m.Lobby} {
		*s = defang(*s)
	}
	m.DialIn = slices.Clone(m.DialIn)
	for i := range m.DialIn {
		d := &m.DialIn[i]
		for _, s := range []*string{&d.Region, &d.Number, &d.Language} {
			*s = defang(*s)
		}
	}
	return m
}

// defang turns "[webscheduler" into "(webscheduler": still readable, no
// longer a marker.
func defang(s string) string {
	if hasMarker(s) {
		return strings.ReplaceAll(s, "[", "(")
	}
	return s
}

func hasMarker(s string) bool {
	return strings.Contains(s, beginStem) || strings.Contains(s, "[/"+markerStem)
}

// tel returns a tel: URI that dials number and then, after a pause, the
// conference ID, as Teams invitations do. Only digits and a leading "+" are
// kept, so the result is safe in an href.
func tel(number, conferenceID string) string {
	digits := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
	}
	n := digits(number)
	if n == "" {
		return ""
	}
	if strings.HasPrefix(strings.TrimSpace(number), "+") {
		n = "+" + n
	}
	if id := digits(conferenceID); id != "" {
		n += ",," + id + "#"
	}
	return "tel:" + n
}

// htmlTel marks tel's result as a safe URL: html/template lets only http,
// https and mailto URLs through otherwise.
func htmlTel(number, conferenceID string) htmltemplate.URL {
	return htmltemplate.URL(tel(number, conferenceID))
}

// sampleMeetings are what ParseTemplates renders each template with: one
// with every field set, and one with only the join URL, so that both sides
// of a template's conditions are tried.
func sampleMeetings() []Meeting {
	full := Meeting{
		Subject:       "Quarterly review",
		OrganizerName: "Alex Wilber",
		JoinURL:       "https://meet.example.com/j/291633251",
		ConferenceID:  "291633251",
		Passcode:      "4821",
		DialInURL:     "https://meet.example.com/dialin",
		HelpURL:       "https://meet.example.com/help",
		DialIn: []DialIn{
			{Region: "United States, Los Angeles", Number: "+1 323-886-7531", Language: "English"},
			{Region: "Germany", Number: "+49 800 123 4567", Language: "Deutsch", TollFree: true},
		},
		Lobby:       "organization",
		PhoneBypass: true,
	}
	return []Meeting{full, {JoinURL: full.JoinURL}}
}
