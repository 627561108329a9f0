// Package manifest generates the Outlook add-in's manifests for one
// deployment: the add-in-only XML manifest (MailApp) and the unified
// manifest for Microsoft 365 (JSON). Both point Outlook at the add-in the
// service serves under /addin/, and name the Entra app whose tokens the
// service accepts.
package manifest

import (
	"crypto/sha1" // #nosec G505 -- a name-based UUID (RFC 9562 v5) is defined with SHA-1
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Config is what differs between deployments.
type Config struct {
	// PublicURL is the https origin (and optional path prefix) Outlook loads
	// the add-in from, WEBSCHEDULER_PUBLIC_URL.
	PublicURL string
	// ClientID is the add-in's Entra app (a GUID), WEBSCHEDULER_CLIENT_ID.
	ClientID string
	// Version is the service's MAJOR.MINOR.PATCH (a leading "v" is
	// dropped). Outlook updates an installed add-in when it changes.
	Version string
}

// Handler names the manifests give Outlook. Each is registered with
// Office.actions.associate in addin/commands.js or addin/launchevent.js.
const (
	CommandFunction = "addMeetingCommand"
)

// LaunchEvent is an event-based activation: Outlook runs Handler when
// Type happens. Unified is the event's name in the unified manifest.
type LaunchEvent struct {
	Type, Unified, Handler string
}

// LaunchEvents are the events the add-in handles, in manifest order.
var LaunchEvents = []LaunchEvent{
	{"OnNewAppointmentOrganizer", "newAppointmentOrganizerCreated", "onNewAppointmentOrganizer"},
	{"OnAppointmentTimeChanged", "appointmentTimeChanged", "onAppointmentTimeChanged"},
	{"OnAppointmentAttendeesChanged", "appointmentAttendeesChanged", "onAppointmentAttendeesChanged"},
	{"OnAppointmentRecurrenceChanged", "appointmentRecurrenceChanged", "onAppointmentRecurrenceChanged"},
}

var (
	guidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	versionPattern = regexp.MustCompile(`^v?([0-9]{1,5})\.([0-9]{1,5})\.([0-9]{1,5})$`)
)

// deployment is a checked Config with everything the templates derive from it.
type deployment struct {
	Base       string // PublicURL without a trailing slash
	Origin     string // scheme://host[:port]
	Host       string
	ClientID   string // lower case
	AddinID    string
	Version    string // MAJOR.MINOR.PATCH
	XMLVersion string // MAJOR.MINOR.PATCH.0
}

// check validates c and reports every problem at once.
func (c Config) check() (deployment, error) {
	var errs []error
	d := deployment{ClientID: strings.ToLower(strings.TrimSpace(c.ClientID))}

	u, err := url.Parse(strings.TrimSpace(c.PublicURL))
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("public URL: %w", err))
	case u.Scheme != "https" || u.Host == "":
		errs = append(errs, fmt.Errorf("public URL %q: must be an absolute https URL: Outlook loads add-ins only over HTTPS", c.PublicURL))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, fmt.Errorf("public URL %q: must have no user, query or fragment", c.PublicURL))
	default:
		d.Origin = "https://" + u.Host
		d.Host = u.Host
		d.Base = d.Origin + strings.TrimSuffix(u.EscapedPath(), "/")
	}

	if !guidPattern.MatchString(d.ClientID) {
		errs = append(errs, fmt.Errorf("client ID %q: must be the Entra application (client) ID, a GUID", c.ClientID))
	} else {
		d.AddinID = addinID(d.ClientID)
	}

	if m := versionPattern.FindStringSubmatch(strings.TrimSpace(c.Version)); m == nil {
		errs = append(errs, fmt.Errorf("version %q: must be MAJOR.MINOR.PATCH with at most 5 digits each", c.Version))
	} else {
		d.Version = m[1] + "." + m[2] + "." + m[3]
		d.XMLVersion = d.Version + ".0"
	}
	if err := errors.Join(errs...); err != nil {
		return deployment{}, fmt.Errorf("manifest: %w", err)
	}
	return d, nil
}

// addinID derives the add-in's own ID from the Entra app's, so a
// deployment keeps its ID across regenerations and upgrades, and two
// deployments (two apps) never share one.
func addinID(clientID string) string {
	// A fixed namespace for Web Scheduler add-in IDs.
	ns := [16]byte{0x6b, 0x1e, 0x3c, 0x52, 0x9d, 0x47, 0x4e, 0x0a, 0x8f, 0x21, 0x5c, 0x73, 0xe4, 0x0b, 0x96, 0xd8}
	h := sha1.New() // #nosec G401 -- not for security: the UUID v5 algorithm
	h.Write(ns[:])
	h.Write([]byte(clientID))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// URL returns the absolute URL of a file of the add-in.
func (d deployment) URL(path string) string { return d.Base + "/addin/" + path }

// Resource is the Application ID URI of the app's API, which Office asks
// Entra ID for tokens to.
func (d deployment) Resource() string { return "api://" + d.Host + "/" + d.ClientID }

// Texts shown in Outlook, with their translations.
type text struct {
	Default      string
	Translations map[string]string // "de-DE" → translation
}

var (
	textName = text{"Web Scheduler", nil}
	textDesc = text{"Adds online meeting join information (join link, dial-in numbers, conference ID and passcode) to Outlook invitations.", map[string]string{
		"de-DE": "Fügt Outlook-Einladungen Teilnahmeinformationen für Onlinebesprechungen hinzu (Teilnahmelink, Einwahlnummern, Konferenz-ID und Kenncode).",
		"fr-FR": "Ajoute aux invitations Outlook les informations de participation aux réunions en ligne (lien, numéros d’accès, ID de conférence et code secret).",
		"ja-JP": "Outlook の招待にオンライン会議の参加情報 (参加リンク、ダイヤルイン番号、会議 ID、パスコード) を追加します。",
	}}
	textAdd = text{"Add online meeting", map[string]string{
		"de-DE": "Onlinebesprechung hinzufügen", "fr-FR": "Ajouter une réunion en ligne", "ja-JP": "オンライン会議を追加",
	}}
	textAddTip = text{"Adds a join link, dial-in numbers, the conference ID and the passcode to this invitation.", map[string]string{
		"de-DE": "Fügt dieser Einladung einen Teilnahmelink, Einwahlnummern, die Konferenz-ID und den Kenncode hinzu.",
		"fr-FR": "Ajoute à cette invitation un lien pour participer, des numéros d’accès, l’ID de conférence et le code secret.",
		"ja-JP": "この招待に参加リンク、ダイヤルイン番号、会議 ID、パスコードを追加します。",
	}}
	textPane = text{"Meeting options", map[string]string{
		"de-DE": "Besprechungsoptionen", "fr-FR": "Options de la réunion", "ja-JP": "会議のオプション",
	}}
	textPaneTip = text{"Choose who bypasses the lobby and who presents, see the join information, or remove the online meeting.", map[string]string{
		"de-DE": "Legen Sie fest, wer den Wartebereich umgeht und wer präsentiert, zeigen Sie die Teilnahmeinformationen an, oder entfernen Sie die Onlinebesprechung.",
		"fr-FR": "Choisissez qui contourne la salle d’attente et qui présente, consultez les informations de participation ou supprimez la réunion en ligne.",
		"ja-JP": "ロビーを迂回できるユーザーと発表者を選び、参加情報を確認するか、オンライン会議を削除します。",
	}}
)

// Locales lists a text's translations in a fixed order.
func (t text) Locales() [][2]string {
	var out [][2]string
	for _, l := range []string{"de-DE", "fr-FR", "ja-JP"} {
		if v, ok := t.Translations[l]; ok {
			out = append(out, [2]string{l, v})
		}
	}
	return out
}
