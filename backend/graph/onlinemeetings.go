package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var _ conferencing.OnlineMeetings = (*Client)(nil)

// CreateOrGet creates a Teams meeting for the caller, or returns the one
// created before with the same externalID. Graph v1.0 createOrGet takes
// only chatInfo, endDateTime, externalId, participants, startDateTime and
// subject; lobby and presenters are set with UpdateOnlineMeeting.
func (c *Client) CreateOrGet(ctx context.Context, p scheduler.Principal, externalID, subject string, start, end time.Time) (conferencing.OnlineMeeting, error) {
	ctx = entra.WithPrincipal(ctx, p)
	body := users.NewItemOnlineMeetingsCreateOrGetPostRequestBody()
	start, end = start.UTC(), end.UTC()
	body.SetExternalId(&externalID)
	body.SetSubject(&subject)
	body.SetStartDateTime(&start)
	body.SetEndDateTime(&end)
	m, err := c.me().OnlineMeetings().CreateOrGet().Post(ctx, body, nil)
	if err != nil {
		return conferencing.OnlineMeeting{}, meetingError("POST onlineMeetings/createOrGet", err)
	}
	return fromOnlineMeeting(m), nil
}

// UpdateOnlineMeeting sets a meeting's times, who skips the lobby (and
// whether phone callers do), and who presents. For "roleIsPresenter" the
// participants in u.PresenterList get the presenter role.
func (c *Client) UpdateOnlineMeeting(ctx context.Context, p scheduler.Principal, id string, u conferencing.OnlineMeetingUpdate) error {
	ctx = entra.WithPrincipal(ctx, p)
	scope, _ := models.ParseLobbyBypassScope(u.Lobby)
	allowed, _ := models.ParseOnlineMeetingPresenters(u.Presenters)
	if scope == nil || allowed == nil {
		return fmt.Errorf("graph: unknown lobby scope %q or allowed presenters %q", u.Lobby, u.Presenters)
	}
	m := models.NewOnlineMeeting()
	start, end := u.Start.UTC(), u.End.UTC()
	m.SetStartDateTime(&start)
	m.SetEndDateTime(&end)
	bypass := models.NewLobbyBypassSettings()
	bypass.SetScope(scope.(*models.LobbyBypassScope))
	bypass.SetIsDialInBypassEnabled(&u.PhoneBypass)
	m.SetLobbyBypassSettings(bypass)
	m.SetAllowedPresenters(allowed.(*models.OnlineMeetingPresenters))
	named := *allowed.(*models.OnlineMeetingPresenters) == models.ROLEISPRESENTER_ONLINEMEETINGPRESENTERS
	if named || u.Attendees != nil {
		attendees := make([]models.MeetingParticipantInfoable, 0, len(u.PresenterList)+len(u.Attendees))
		add := func(addr string, role models.OnlineMeetingRole) {
			a := models.NewMeetingParticipantInfo()
			upn := addr
			a.SetUpn(&upn)
			a.SetRole(&role)
			attendees = append(attendees, a)
		}
		presenter := map[string]bool{}
		if named {
			for _, addr := range u.PresenterList {
				presenter[strings.ToLower(addr)] = true
				add(addr, models.PRESENTER_ONLINEMEETINGROLE)
			}
		}
		for _, addr := range u.Attendees {
			if !presenter[strings.ToLower(addr)] {
				add(addr, models.ATTENDEE_ONLINEMEETINGROLE)
			}
		}
		participants := models.NewMeetingParticipants()
		participants.SetAttendees(attendees)
		m.SetParticipants(participants)
	}
	if _, err := c.me().OnlineMeetings().ByOnlineMeetingId(id).Patch(ctx, m, nil); err != nil {
		return meetingError("PATCH onlineMeeting", err)
	}
	return nil
}

// DeleteOnlineMeeting deletes a Teams meeting of the caller's.
func (c *Client) DeleteOnlineMeeting(ctx context.Context, p scheduler.Principal, id string) error {
	ctx = entra.WithPrincipal(ctx, p)
	if err := c.me().OnlineMeetings().ByOnlineMeetingId(id).Delete(ctx, nil); err != nil {
		return meetingError("DELETE onlineMeeting", err)
	}
	return nil
}

// meetingError is graphError with a 404 worded for meetings, not events.
func meetingError(op string, err error) error {
	err = graphError(op, err)
	var e *scheduler.Error
	if errors.As(err, &e) && e.Code == scheduler.ECodeNotFound {
		return scheduler.Wrap(scheduler.ECodeNotFound, "The Teams meeting no longer exists.", e.Err)
	}
	return err
}

func fromOnlineMeeting(m models.OnlineMeetingable) conferencing.OnlineMeeting {
	out := conferencing.OnlineMeeting{ID: str(m.GetId()), JoinURL: str(m.GetJoinWebUrl())}
	if a := m.GetAudioConferencing(); a != nil {
		out.ConferenceID = str(a.GetConferenceId())
		out.TollNumber = str(a.GetTollNumber())
		out.DialInURL = str(a.GetDialinUrl())
	}
	if j := m.GetJoinMeetingIdSettings(); j != nil {
		if out.ConferenceID == "" {
			out.ConferenceID = str(j.GetJoinMeetingId())
		}
		out.Passcode = str(j.GetPasscode())
	}
	return out
}
