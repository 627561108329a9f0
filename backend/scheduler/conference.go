package scheduler

import (
	"context"
	"net/mail"
	"slices"
	"time"
)

// Lobby settings: who joins directly; everyone else waits in the lobby.
const (
	LobbyOrganizer = "organizer"
	LobbyInvited   = "invited"
	LobbyCompany   = "company"
	LobbyEveryone  = "everyone"
)

// Presenter settings: who may present.
const (
	PresentersOrganizer = "organizer"
	PresentersCompany   = "company"
	PresentersEveryone  = "everyone"
	PresentersNamed     = "named" // only the people in MeetingOptions.PresenterList
)

// MeetingOptions are the choices an organizer makes for a meeting.
type MeetingOptions struct {
	Lobby         string   `json:"lobby"`
	PhoneBypass   bool     `json:"phoneBypass"`
	Presenters    string   `json:"presenters"`
	PresenterList []string `json:"presenterList,omitempty"` // addresses, sealed at rest with the record
	// DialInRegion, when set, limits the dial-in numbers in the join
	// information to that region's.
	DialInRegion string `json:"dialInRegion,omitempty"`
}

// MaxPresenters bounds a named presenter list: options are sealed into the
// record, and Teams takes the list in one request.
const MaxPresenters = 100

// WithDefaults fills options a request leaves empty with Teams' own
// defaults (people in the organization skip the lobby; everyone may
// present). The presenter list is copied, so the result shares nothing
// with the request.
func (o MeetingOptions) WithDefaults() MeetingOptions {
	if o.Lobby == "" {
		o.Lobby = LobbyCompany
	}
	if o.Presenters == "" {
		o.Presenters = PresentersEveryone
	}
	o.PresenterList = slices.Clone(o.PresenterList)
	return o
}

// Validate checks options, defaults already applied, and returns an *Error
// with ECodeInvalid and a sentence the organizer can act on. Messages never
// repeat an address.
func (o MeetingOptions) Validate() error {
	invalid := func(format string, args ...any) error {
		return Errorf(ECodeInvalid, format, args...)
	}
	switch o.Lobby {
	case LobbyOrganizer, LobbyInvited, LobbyCompany, LobbyEveryone:
	default:
		return invalid("Who skips the lobby must be one of organizer, invited, company or everyone.")
	}
	switch o.Presenters {
	case PresentersOrganizer, PresentersCompany, PresentersEveryone:
		if len(o.PresenterList) > 0 {
			return invalid("A list of presenters is only used when presenters is \"named\".")
		}
		return nil
	case PresentersNamed:
	default:
		return invalid("Who may present must be one of organizer, company, everyone or named.")
	}
	switch n := len(o.PresenterList); {
	case n == 0:
		return invalid("Name at least one presenter, or choose who may present.")
	case n > MaxPresenters:
		return invalid("At most %d presenters can be named.", MaxPresenters)
	}
	for i, a := range o.PresenterList {
		// A bare address only: no display name, nothing ParseAddress drops.
		if p, err := mail.ParseAddress(a); err != nil || p.Address != a || len(a) > 254 {
			return invalid("Presenter %d is not an e-mail address.", i+1)
		}
	}
	return nil
}

// Conference is a provider's conference as the store keeps it (DESIGN §5).
// It holds no subject, attendee or body: those live in the calendar.
type Conference struct {
	MeetingID      string         `json:"meetingId"`    // the API's opaque {id}
	ConferenceID   string         `json:"conferenceId"` // numeric, dialled by phone users
	Provider       string         `json:"provider"`
	SealedPasscode []byte         `json:"passcode,omitempty"`
	SealedOptions  []byte         `json:"options,omitempty"` // sealed MeetingOptions (presenters name people)
	Room           string         `json:"room"`
	JoinURL        string         `json:"joinUrl"`
	ExternalID     string         `json:"externalId,omitempty"` // provider's own meeting ID (Teams)
	OrganizerOID   string         `json:"organizerOid"`
	TID            string         `json:"tid"`
	EventID        string         `json:"eventId,omitempty"`
	Mailbox        string         `json:"mailbox,omitempty"` // Graph user ID whose calendar holds the event
	Start          time.Time      `json:"start"`
	End            time.Time      `json:"end"`
	Created        time.Time      `json:"created"`
	Updated        time.Time      `json:"updated"`
	DialIn         []DialIn       `json:"dialIn,omitempty"`    // the provider's own numbers (Teams); else the configured ones apply
	DialInURL      string         `json:"dialInUrl,omitempty"` // the provider's own dial-in page, with DialIn
	Options        MeetingOptions `json:"-"`                   // opened from SealedOptions in memory
}

// ConferenceStore keeps conferences, indexed by meeting ID, conference ID
// and room, with unique conference IDs and rooms across replicas.
type ConferenceStore interface {
	// CreateConference stores c only if its conference ID and room are both
	// free; otherwise it stores nothing and returns an *Error with
	// ECodeConflict. ttl bounds how long the record lives.
	CreateConference(ctx context.Context, c Conference, ttl time.Duration) error
	// UpdateConference replaces an existing record (same meeting ID,
	// conference ID and room); ErrNotFound when it is gone.
	UpdateConference(ctx context.Context, c Conference, ttl time.Duration) error
	ConferenceByMeeting(ctx context.Context, meetingID string) (Conference, error)
	ConferenceByID(ctx context.Context, conferenceID string) (Conference, error)
	ConferenceByRoom(ctx context.Context, room string) (Conference, error)
	// DeleteConference removes the record and its indexes; a missing one is
	// no error.
	DeleteConference(ctx context.Context, meetingID string) error
}

// IdempotencyStore remembers which meeting an Idempotency-Key produced.
type IdempotencyStore interface {
	// ClaimIdempotency claims key for the caller. It returns claimed=true
	// when the caller is first and must do the work; otherwise it returns
	// the meeting ID recorded so far ("" while the first caller is still
	// working).
	ClaimIdempotency(ctx context.Context, key string, ttl time.Duration) (meetingID string, claimed bool, err error)
	// CompleteIdempotency records the meeting ID under a claimed key.
	CompleteIdempotency(ctx context.Context, key, meetingID string, ttl time.Duration) error
	// ReleaseIdempotency drops a claim whose work failed, so a retry may run.
	ReleaseIdempotency(ctx context.Context, key string) error
}
