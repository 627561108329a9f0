package emugraph_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOnlineMeetings(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		req := map[string]any{
			"externalId":    "ws-conf-123456789",
			"subject":       "Planning",
			"startDateTime": "2024-04-15T18:00:00Z",
			"endDateTime":   "2024-04-15T19:00:00Z",
			"participants": map[string]any{"attendees": []any{map[string]any{
				"upn": "alex.wilber@contoso.example", "role": "attendee",
			}}},
		}
		created := e.call(http.MethodPost, "/me/onlineMeetings/createOrGet", adele, req).must(t, http.StatusCreated).json
		id, _ := created["id"].(string)
		if !strings.HasPrefix(created["joinWebUrl"].(string), "https://teams.microsoft.com/l/meetup-join/19%3ameeting_") {
			t.Errorf("joinWebUrl %v", created["joinWebUrl"])
		}
		for _, path := range []string{"joinMeetingIdSettings.joinMeetingId", "joinMeetingIdSettings.passcode", "audioConferencing.conferenceId", "audioConferencing.tollNumber", "audioConferencing.dialinUrl", "chatInfo.threadId"} {
			if s, _ := at(created, path).(string); s == "" {
				t.Errorf("%s missing", path)
			}
		}
		if at(created, "participants.organizer.upn") != "adele.vance@contoso.example" || created["startDateTime"] != "2024-04-15T18:00:00.0000000Z" {
			t.Errorf("organizer or times: %v %v", created["participants"], created["startDateTime"])
		}
		again := e.call(http.MethodPost, "/users/"+adeleID+"/onlineMeetings/createOrGet", adele, map[string]any{"externalId": "ws-conf-123456789"}).must(t, http.StatusOK).json
		if again["id"] != id {
			t.Error("the same externalId made a second meeting")
		}
		if r := e.call(http.MethodPost, "/me/onlineMeetings/createOrGet", adele, map[string]any{"externalId": "x", "lobbyBypassSettings": map[string]any{"scope": "everyone"}}); r.status != http.StatusBadRequest {
			t.Errorf("createOrGet accepted lobbyBypassSettings (v1.0 does not): %d", r.status)
		}
		if r := e.call(http.MethodPost, "/me/onlineMeetings/createOrGet", adele, map[string]any{"subject": "no externalId"}); r.status != http.StatusBadRequest {
			t.Errorf("createOrGet without externalId: %d", r.status)
		}
		if r := e.call(http.MethodPost, "/me/onlineMeetings/createOrGet", adele, map[string]any{"externalId": "y", "startDateTime": "tomorrow"}); r.status != http.StatusBadRequest {
			t.Errorf("createOrGet with a bad startDateTime: %d", r.status)
		}

		path := "/me/onlineMeetings/" + url.PathEscape(id)
		patched := e.call(http.MethodPatch, path, adele, map[string]any{
			"@odata.type":         "#microsoft.graph.onlineMeeting",
			"lobbyBypassSettings": map[string]any{"scope": "everyone"},
			"allowedPresenters":   "organizer",
		}).must(t, http.StatusOK).json
		if at(patched, "lobbyBypassSettings.scope") != "everyone" || at(patched, "lobbyBypassSettings.isDialInBypassEnabled") != false || patched["allowedPresenters"] != "organizer" {
			t.Errorf("PATCH: %v %v", patched["lobbyBypassSettings"], patched["allowedPresenters"])
		}
		if r := e.call(http.MethodPatch, path, adele, map[string]any{"joinWebUrl": "https://example.com"}); r.status != http.StatusBadRequest {
			t.Errorf("PATCH of a read-only property: %d", r.status)
		}
		if e.withSpec {
			if r := e.call(http.MethodPatch, path, adele, map[string]any{"allowedPresenters": "anyone"}); r.status != http.StatusBadRequest {
				t.Errorf("PATCH with a wrong enum: %d", r.status)
			}
		}
		if got := e.call(http.MethodGet, path, adele, nil).must(t, http.StatusOK).json; got["allowedPresenters"] != "organizer" {
			t.Errorf("GET after PATCH: %v", got["allowedPresenters"])
		}
		e.call(http.MethodDelete, path, adele, nil).must(t, http.StatusNoContent)
		e.call(http.MethodGet, path, adele, nil).must(t, http.StatusNotFound)
	})
}
