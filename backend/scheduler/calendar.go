package scheduler

import (
	"context"
	"time"
)

// Body types, as Graph names them.
const (
	BodyHTML = "html"
	BodyText = "text"
)

// Attendee is one invitee of a calendar item.
type Attendee struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
	Type    string `json:"type,omitempty"` // required, optional, resource
}

// Event is a calendar item as far as Web Scheduler cares.
type Event struct {
	ID        string
	ChangeKey string
	Subject   string
	BodyType  string // BodyHTML or BodyText
	Body      string
	Location  string
	Start     time.Time
	End       time.Time
	TimeZone  string // the Windows or IANA name the item was written with
	Attendees []Attendee
	// ConferenceID is our single-value extended property, "" when absent.
	ConferenceID string
	IsOrganizer  bool
	Organizer    Attendee
	WebLink      string
	IsCancelled  bool
	// Type is Graph's event type (singleInstance, occurrence, exception,
	// seriesMaster); an occurrence's body belongs to SeriesMasterID.
	Type           string
	SeriesMasterID string
}

// EventPatch changes some fields of an event; nil fields stay as they are.
type EventPatch struct {
	BodyType     string
	Body         *string
	Location     *string
	ConferenceID *string // "" removes the property's value
	Start, End   *time.Time
	TimeZone     string
}

// Calendar reads and writes calendar items on the caller's behalf. mailbox
// is "" for the caller's own calendar, or the ID of a calendar the caller
// may use as a delegate.
type Calendar interface {
	Event(ctx context.Context, p Principal, mailbox, id string) (Event, error)
	// UpdateEvent applies patch only if the event still has changeKey;
	// otherwise it returns ECodePreconditionFail and changes nothing.
	UpdateEvent(ctx context.Context, p Principal, mailbox, id, changeKey string, patch EventPatch) (Event, error)
	CreateEvent(ctx context.Context, p Principal, mailbox string, e Event) (Event, error)
	// CancelEvent cancels a meeting with a message to its attendees.
	CancelEvent(ctx context.Context, p Principal, mailbox, id, comment string) error
	// Events lists the items between start and end that carry our
	// extended property.
	Events(ctx context.Context, p Principal, mailbox string, start, end time.Time) ([]Event, error)
}

// DialIn is one dial-in number.
type DialIn struct {
	Region   string `json:"region"`
	Number   string `json:"number"`
	Language string `json:"language,omitempty"`
	TollFree bool   `json:"tollFree,omitempty"`
}

// JoinDetails are what a person needs to join.
type JoinDetails struct {
	JoinURL      string   `json:"joinUrl"`
	ConferenceID string   `json:"conferenceId"`
	Passcode     string   `json:"passcode,omitempty"`
	DialIn       []DialIn `json:"dialIn"`
	DialInURL    string   `json:"dialInUrl,omitempty"`
}

// ConferenceRequest asks a provider for a conference.
type ConferenceRequest struct {
	Principal Principal
	Organizer Profile
	MeetingID string // our ID, stable across retries (Teams uses it as externalId)
	Subject   string
	Start     time.Time
	End       time.Time
	Options   MeetingOptions
	// Attendees are the invitees' addresses, when the caller knows them
	// (nil: unchanged). They are passed on, never stored.
	Attendees []string
}

// Provider allocates conferences on a conferencing service.
type Provider interface {
	Name() string
	// NewConference allocates a conference. The caller stores it; when the
	// store reports a conflict (the conference ID or room is taken) it asks
	// again, so providers pick IDs at random rather than in sequence. The
	// checked options come back in Options, unsealed: the caller seals them
	// as it stores.
	NewConference(ctx context.Context, req ConferenceRequest) (Conference, error)
	// Details returns the join details of a stored conference.
	Details(ctx context.Context, c Conference) (JoinDetails, error)
	// UpdateConference applies changed options or times, returning the
	// options in Options as NewConference does.
	UpdateConference(ctx context.Context, c Conference, req ConferenceRequest) (Conference, error)
	// FreeConference releases what NewConference allocated outside our store.
	FreeConference(ctx context.Context, c Conference, p Principal) error
}
