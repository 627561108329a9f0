// Package conferencing holds the conferencing providers (template: a
// self-hosted conferencing system reached through join-URL templates, as
// Lync Server's were; teams: Microsoft Teams through Graph), the settings an
// admin keeps for them, and a Jitsi-compatible dial-in directory.
package conferencing

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Provider names, as in WEBSCHEDULER_PROVIDER and Conference.Provider.
const (
	ProviderTemplate = "template"
	ProviderTeams    = "teams"
)

// Passcode policies of the template provider.
const (
	PasscodeNone     = "none"     // conferences have no passcode
	PasscodeOptional = "optional" // each gets one; the conferencing service need not ask for it
	PasscodeRequired = "required" // each gets one and callers must give it
)

// Limits the settings are checked against.
const (
	MinConferenceIDLength = 5
	MaxConferenceIDLength = 12
	MinPasscodeLength     = 4
	MaxPasscodeLength     = 12
	maxRoomLength         = 64
)

// Placeholders of the join URL and room templates.
const (
	PlaceholderSIPUser      = "{sip_user}"
	PlaceholderSIPDomain    = "{sip_domain}"
	PlaceholderConferenceID = "{conference_id}"
	PlaceholderRoom         = "{room}"
)

// Settings are the conferencing settings an admin keeps in the YAML file
// named by WEBSCHEDULER_SETTINGS. The JSON names equal the YAML ones, so the
// admin API and the Redis override (ws:settings) read the same way.
type Settings struct {
	// Provider is ProviderTemplate (the default) or ProviderTeams.
	Provider string           `yaml:"provider" json:"provider"`
	Template TemplateSettings `yaml:"template" json:"template"`
	DialIn   DialInSettings   `yaml:"dialIn" json:"dialIn"`
	// AutoAdd adds join information to every new meeting without a click.
	AutoAdd bool `yaml:"autoAddToNewMeetings" json:"autoAddToNewMeetings"`
	// HelpURL is linked from join information; optional.
	HelpURL string        `yaml:"helpUrl,omitempty" json:"helpUrl,omitempty"`
	Jitsi   JitsiSettings `yaml:"jitsi" json:"jitsi"`
}

// TemplateSettings configure the template provider.
type TemplateSettings struct {
	// JoinURL is an https URL template with {sip_user}, {sip_domain},
	// {conference_id} and {room}; it must hold {conference_id} or {room}
	// so that every conference gets its own URL.
	JoinURL string `yaml:"joinUrl" json:"joinUrl"`
	// ConferenceIDLength is the number of digits of conference IDs, from
	// MinConferenceIDLength to MaxConferenceIDLength.
	ConferenceIDLength int            `yaml:"conferenceIdLength" json:"conferenceIdLength"`
	Passcode           PasscodePolicy `yaml:"passcode" json:"passcode"`
	// Room is the room name template; it must hold {conference_id} (which
	// makes rooms unique) and otherwise only a-z, 0-9, '-' and '_', so
	// rooms are safe in URLs and XMPP addresses alike.
	Room string `yaml:"room" json:"room"`
}

// PasscodePolicy says whether conferences get a numeric passcode.
type PasscodePolicy struct {
	Policy string `yaml:"policy" json:"policy"` // PasscodeNone, PasscodeOptional or PasscodeRequired
	Length int    `yaml:"length,omitempty" json:"length,omitempty"`
}

// DialInSettings are the numbers people call to join by phone.
type DialInSettings struct {
	// URL is the "find a local number" page; optional.
	URL     string         `yaml:"url,omitempty" json:"url,omitempty"`
	Numbers []DialInNumber `yaml:"numbers" json:"numbers"`
}

// DialInNumber is one dial-in number.
type DialInNumber struct {
	// Region is the label join information shows ("United States, Seattle").
	Region string `yaml:"region" json:"region"`
	// Country is the ISO 3166-1 alpha-2 code ("US"), which Jitsi Meet needs
	// to group numbers and show flags.
	Country string `yaml:"country" json:"country"`
	// Number is written as it is shown: "+", the country calling code and
	// the number, with spaces, '-', '.' or parentheses between digits.
	Number string `yaml:"number" json:"number"`
	// Language is the BCP 47 tag of the number's audio prompts; optional.
	Language string `yaml:"language,omitempty" json:"language,omitempty"`
	TollFree bool   `yaml:"tollFree,omitempty" json:"tollFree,omitempty"`
}

// JitsiSettings turn on the Jitsi-compatible dial-in directory.
type JitsiSettings struct {
	Enabled bool `yaml:"enabled" json:"enabled"`
	// ConferenceDomain is the XMPP MUC domain of the Jitsi deployment
	// ("conference.meet.contoso.example"): rooms are room@ConferenceDomain.
	ConferenceDomain string `yaml:"conferenceDomain,omitempty" json:"conferenceDomain,omitempty"`
}

// LoadSettings reads and validates a settings file. Unknown keys are errors,
// so a misspelt setting is never silently ignored, and every problem is
// reported at once.
func LoadSettings(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("settings: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty file decodes to io.EOF; Validate then says what is missing.
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return Settings{}, fmt.Errorf("settings %s: %w", path, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return Settings{}, fmt.Errorf("settings %s: holds more than one YAML document", path)
	}
	if s.Provider == "" {
		s.Provider = ProviderTemplate
	}
	if err := s.Validate(); err != nil {
		return Settings{}, fmt.Errorf("settings %s: %w", path, err)
	}
	return s, nil
}

// SandboxSettings are the built-in settings of sandbox mode: conferences
// join on the sandbox's own pages, and the numbers are fictional.
func SandboxSettings(publicURL string) Settings {
	base := strings.TrimSuffix(publicURL, "/")
	return Settings{
		Provider: ProviderTemplate,
		Template: TemplateSettings{
			JoinURL:            base + "/join/" + PlaceholderConferenceID,
			ConferenceIDLength: 7,
			Passcode:           PasscodePolicy{Policy: PasscodeRequired, Length: 6},
			Room:               "meeting-" + PlaceholderConferenceID,
		},
		DialIn: DialInSettings{
			URL: base + "/dialin",
			Numbers: []DialInNumber{
				{Region: "United States, Seattle", Country: "US", Number: "+1 206-555-0142", Language: "en-US"},
				{Region: "United States", Country: "US", Number: "+1 800-555-0199", Language: "en-US", TollFree: true},
				{Region: "Germany, Berlin", Country: "DE", Number: "+49 30 23125 142", Language: "de-DE"},
				{Region: "France, Paris", Country: "FR", Number: "+33 1 99 00 01 42", Language: "fr-FR"},
				{Region: "Japan, Tokyo", Country: "JP", Number: "+81 3-5555-0142", Language: "ja-JP"},
			},
		},
		AutoAdd: false,
		HelpURL: base + "/help",
		Jitsi:   JitsiSettings{Enabled: true, ConferenceDomain: "conference.meet.contoso.example"},
	}
}

// Validate checks every setting and reports all problems in one error.
func (s Settings) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch s.Provider {
	case ProviderTemplate:
		errs = append(errs, s.Template.validate()...)
	case ProviderTeams:
		if s.Template != (TemplateSettings{}) {
			errs = append(errs, s.Template.validate()...)
		}
	default:
		add("provider: %q is neither %q nor %q", s.Provider, ProviderTemplate, ProviderTeams)
	}
	if err := checkWebURL(s.DialIn.URL); err != nil {
		add("dialIn.url: %q %w", s.DialIn.URL, err)
	}
	seen := map[string]bool{}
	for i, n := range s.DialIn.Numbers {
		for _, err := range n.validate() {
			add("dialIn.numbers[%d]: %w", i, err)
		}
		if d := digits(n.Number); seen[d] {
			add("dialIn.numbers[%d]: number %s is listed twice", i, n.Number)
		} else {
			seen[d] = true
		}
	}
	if err := checkWebURL(s.HelpURL); err != nil {
		add("helpUrl: %q %w", s.HelpURL, err)
	}
	if s.Jitsi.Enabled && !isDomain(s.Jitsi.ConferenceDomain) {
		add("jitsi.conferenceDomain: %q is not a domain name such as conference.meet.contoso.example", s.Jitsi.ConferenceDomain)
	}
	return errors.Join(errs...)
}

func (t TemplateSettings) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.ConferenceIDLength < MinConferenceIDLength || t.ConferenceIDLength > MaxConferenceIDLength {
		add("template.conferenceIdLength: %d is not between %d and %d", t.ConferenceIDLength, MinConferenceIDLength, MaxConferenceIDLength)
	}
	switch t.Passcode.Policy {
	case PasscodeNone:
		if t.Passcode.Length != 0 {
			add("template.passcode.length: must not be set when the policy is %q", PasscodeNone)
		}
	case PasscodeOptional, PasscodeRequired:
		if t.Passcode.Length < MinPasscodeLength || t.Passcode.Length > MaxPasscodeLength {
			add("template.passcode.length: %d is not between %d and %d", t.Passcode.Length, MinPasscodeLength, MaxPasscodeLength)
		}
	default:
		add("template.passcode.policy: %q is not one of %s, %s, %s", t.Passcode.Policy, PasscodeNone, PasscodeOptional, PasscodeRequired)
	}
	roomOK := true
	if !strings.Contains(t.Room, PlaceholderConferenceID) {
		add("template.room: %q lacks %s, which makes rooms unique", t.Room, PlaceholderConferenceID)
		roomOK = false
	} else if lit := strings.ReplaceAll(t.Room, PlaceholderConferenceID, ""); !isRoomText(lit) {
		add("template.room: %q may hold only %s, a-z, 0-9, '-' and '_'", t.Room, PlaceholderConferenceID)
		roomOK = false
	} else if n := len(lit) + strings.Count(t.Room, PlaceholderConferenceID)*MaxConferenceIDLength; n > maxRoomLength {
		add("template.room: %q can give rooms longer than %d characters", t.Room, maxRoomLength)
		roomOK = false
	}
	if err := checkJoinTemplate(t.JoinURL, roomOK); err != nil {
		add("template.joinUrl: %q %w", t.JoinURL, err)
	}
	return errs
}

var placeholderRE = regexp.MustCompile(`\{[^{}]*\}`)

// checkJoinTemplate renders the template with awkward sample values and
// checks the result is a usable https URL.
func checkJoinTemplate(tmpl string, roomOK bool) error {
	if tmpl == "" {
		return errors.New("is required")
	}
	for _, p := range placeholderRE.FindAllString(tmpl, -1) {
		switch p {
		case PlaceholderSIPUser, PlaceholderSIPDomain, PlaceholderConferenceID:
		case PlaceholderRoom:
			if !roomOK {
				return fmt.Errorf("uses %s, but template.room is invalid", PlaceholderRoom)
			}
		default:
			return fmt.Errorf("has an unknown placeholder %s (known: %s, %s, %s, %s)", p,
				PlaceholderSIPUser, PlaceholderSIPDomain, PlaceholderConferenceID, PlaceholderRoom)
		}
	}
	if !strings.Contains(tmpl, PlaceholderConferenceID) && !strings.Contains(tmpl, PlaceholderRoom) {
		return fmt.Errorf("lacks %s or %s, so every meeting would share one URL", PlaceholderConferenceID, PlaceholderRoom)
	}
	return checkWebURL(renderJoinURL(tmpl, joinValues{sipUser: "a b/c?d#e", sipDomain: "contoso.example", conferenceID: "1234567", room: "room-1234567"}))
}

// checkWebURL accepts "" (not set), https URLs, and http URLs on the local
// machine (the sandbox).
func checkWebURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("is not a URL")
	case u.Host == "":
		return errors.New("is not an absolute URL with a host")
	case u.User != nil:
		return errors.New("must not carry a user name or password")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"):
		return nil
	}
	return errors.New("must use https (http only on localhost or 127.0.0.1)")
}

var (
	countryRE  = regexp.MustCompile(`^[A-Z]{2}$`)
	phoneRE    = regexp.MustCompile(`^\+[1-9](?:[ .-]?(?:[0-9]|\([0-9]+\)))*$`)
	languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$`)
)

func (n DialInNumber) validate() []error {
	var errs []error
	if strings.TrimSpace(n.Region) == "" {
		errs = append(errs, errors.New("region is required"))
	}
	if !countryRE.MatchString(n.Country) {
		errs = append(errs, fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code such as US", n.Country))
	}
	if d := len(digits(n.Number)); !phoneRE.MatchString(n.Number) || d < 7 || d > 15 {
		errs = append(errs, fmt.Errorf("number %q is not an international number such as +1 206-555-0100 (7 to 15 digits)", n.Number))
	}
	if n.Language != "" && !languageRE.MatchString(n.Language) {
		errs = append(errs, fmt.Errorf("language %q is not a BCP 47 tag such as en-US", n.Language))
	}
	return errs
}

// digits returns the digits of s, which identify a phone number however it
// is written.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// isRoomText reports whether s holds only characters safe in a room name.
func isRoomText(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

var labelRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// isDomain reports whether s is a lower-case DNS name of two or more labels
// (an IP address is no XMPP MUC domain).
func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 || net.ParseIP(s) != nil {
		return false
	}
	for _, l := range labels {
		if !labelRE.MatchString(l) {
			return false
		}
	}
	_, err := strconv.Atoi(labels[len(labels)-1])
	return err != nil // a numeric top-level label is no domain
}

// dialIn converts the configured numbers for join details.
func (s Settings) dialIn() []scheduler.DialIn {
	out := make([]scheduler.DialIn, 0, len(s.DialIn.Numbers))
	for _, n := range s.DialIn.Numbers {
		out = append(out, scheduler.DialIn{Region: n.Region, Number: n.Number, Language: n.Language, TollFree: n.TollFree})
	}
	return out
}
