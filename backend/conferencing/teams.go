package conferencing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// OnlineMeeting is a Teams meeting as Graph returns it.
type OnlineMeeting struct {
	ID           string // Graph's onlineMeeting id
	JoinURL      string // joinWebUrl
	ConferenceID string // audioConferencing.conferenceId, else joinMeetingIdSettings.joinMeetingId
	Passcode     string // joinMeetingIdSettings.passcode
	TollNumber   string // audioConferencing.tollNumber
	DialInURL    string // audioConferencing.dialinUrl
}

// OnlineMeetingUpdate is what the teams provider sets on a meeting with a
// PATCH, in Graph's values.
type OnlineMeetingUpdate struct {
	Start, End time.Time // startDateTime, endDateTime
	Lobby      string    // lobbyBypassSettings.scope
	Presenters string    // allowedPresenters
	// PresenterList are the addresses given the presenter role when
	// Presenters is "roleIsPresenter".
	PresenterList []string
	PhoneBypass   bool // lobbyBypassSettings.isDialInBypassEnabled
	// Attendees become participants with the attendee role, so that the
	// "invited" lobby setting lets them in; nil leaves participants as
	// they are (unless presenters are named).
	Attendees []string
}

// OnlineMeetings is what the teams provider needs of Graph's
// /me/onlineMeetings; graph.Client implements it.
type OnlineMeetings interface {
	// CreateOrGet creates the meeting, or returns the one created before
	// with the same externalID.
	CreateOrGet(ctx context.Context, p scheduler.Principal, externalID, subject string, start, end time.Time) (OnlineMeeting, error)
	UpdateOnlineMeeting(ctx context.Context, p scheduler.Principal, id string, u OnlineMeetingUpdate) error
	DeleteOnlineMeeting(ctx context.Context, p scheduler.Principal, id string) error
}

// Graph's values for our lobby and presenter options.
var (
	teamsLobby = map[string]string{
		scheduler.LobbyOrganizer: "organizer",
		scheduler.LobbyInvited:   "invited",
		scheduler.LobbyCompany:   "organization",
		scheduler.LobbyEveryone:  "everyone",
	}
	teamsPresenters = map[string]string{
		scheduler.PresentersOrganizer: "organizer",
		scheduler.PresentersCompany:   "organization",
		scheduler.PresentersEveryone:  "everyone",
		scheduler.PresentersNamed:     "roleIsPresenter",
	}
)

// Teams allocates conferences as Microsoft Teams meetings, on the
// organizer's behalf.
type Teams struct {
	s        Settings
	meetings OnlineMeetings
	box      *secret.Box
}

var _ scheduler.Provider = (*Teams)(nil)

// NewTeams returns the teams provider; box seals passcodes. Options stay in
// memory: the caller seals them as it stores.
func NewTeams(s Settings, meetings OnlineMeetings, box *secret.Box) *Teams {
	return &Teams{s: s, meetings: meetings, box: box}
}

// Name returns ProviderTeams.
func (t *Teams) Name() string { return ProviderTeams }

// NewConference creates (or, on a retry, finds) the Teams meeting whose
// externalId is the meeting ID, then sets its times, lobby and presenters
// with a PATCH: Graph v1.0 createOrGet takes no such settings, and returns
// a meeting found on a retry with the times it was created with. Both steps
// are idempotent, so a caller may retry the whole call after any failure.
func (t *Teams) NewConference(ctx context.Context, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	if req.MeetingID == "" {
		return scheduler.Conference{}, errors.New("conferencing: request without meeting ID")
	}
	opts, err := checkRequest(req)
	if err != nil {
		return scheduler.Conference{}, err
	}
	m, err := t.meetings.CreateOrGet(ctx, req.Principal, req.MeetingID, req.Subject, req.Start, req.End)
	if err != nil {
		return scheduler.Conference{}, fmt.Errorf("create Teams meeting: %w", err)
	}
	if err := t.apply(ctx, req.Principal, m.ID, req.Start, req.End, opts, req.Attendees); err != nil {
		return scheduler.Conference{}, err
	}
	now := time.Now().UTC()
	c := scheduler.Conference{
		MeetingID:    req.MeetingID,
		ConferenceID: m.ConferenceID,
		Provider:     ProviderTeams,
		JoinURL:      m.JoinURL,
		ExternalID:   m.ID,
		OrganizerOID: req.Principal.OID,
		TID:          req.Principal.TID,
		Start:        req.Start,
		End:          req.End,
		Created:      now,
		Updated:      now,
		DialInURL:    m.DialInURL,
		Options:      opts,
	}
	if m.TollNumber != "" {
		c.DialIn = []scheduler.DialIn{{Region: "Toll", Number: m.TollNumber}}
	}
	if m.Passcode != "" {
		c.SealedPasscode = sealPasscode(t.box, req.MeetingID, m.Passcode)
	}
	return c, nil
}

// Details opens the passcode and adds the meeting's own dial-in, or the
// configured numbers when Teams gave it none.
func (t *Teams) Details(_ context.Context, c scheduler.Conference) (scheduler.JoinDetails, error) {
	return details(t.s, t.box, c)
}

// UpdateConference sets the Teams meeting's times, lobby and presenters
// and updates the record's options and times.
func (t *Teams) UpdateConference(ctx context.Context, c scheduler.Conference, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	updated, err := updateRecord(c, req)
	if err != nil {
		return c, err
	}
	if err := t.apply(ctx, req.Principal, c.ExternalID, updated.Start, updated.End, updated.Options, req.Attendees); err != nil {
		return c, err
	}
	return updated, nil
}

// FreeConference deletes the Teams meeting; one already gone is no error.
func (t *Teams) FreeConference(ctx context.Context, c scheduler.Conference, p scheduler.Principal) error {
	if c.ExternalID == "" {
		return nil
	}
	err := t.meetings.DeleteOnlineMeeting(ctx, p, c.ExternalID)
	if err != nil && scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		return fmt.Errorf("delete Teams meeting: %w", err)
	}
	return nil
}

// apply patches the meeting with its times and valid options in Graph's
// values.
func (t *Teams) apply(ctx context.Context, p scheduler.Principal, id string, start, end time.Time, o scheduler.MeetingOptions, attendees []string) error {
	u := OnlineMeetingUpdate{
		Start: start, End: end,
		Lobby: teamsLobby[o.Lobby], Presenters: teamsPresenters[o.Presenters],
		PhoneBypass: o.PhoneBypass,
		Attendees:   attendees,
	}
	if o.Presenters == scheduler.PresentersNamed {
		u.PresenterList = o.PresenterList
	}
	err := t.meetings.UpdateOnlineMeeting(ctx, p, id, u)
	if err != nil {
		return fmt.Errorf("set Teams meeting options: %w", err)
	}
	return nil
}
