package emugraph

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// meeting is a Teams online meeting: its Graph JSON plus the keys to find it.
type meeting struct {
	id, externalID string
	props          map[string]any
}

// createOrGetParams are the only parameters Graph v1.0 accepts on
// onlineMeetings/createOrGet; lobby and presenter settings need a PATCH after.
var createOrGetParams = []string{"chatInfo", "endDateTime", "externalId", "participants", "startDateTime", "subject"}

// meetingUpdatable are the properties PATCH may change (Graph v1.0
// "Update onlineMeeting"); the others of the type are read-only.
var meetingUpdatable = []string{
	"allowAttendeeToEnableCamera", "allowAttendeeToEnableMic", "allowBreakoutRooms",
	"allowCopyingAndSharingMeetingContent", "allowedLobbyAdmitters", "allowedPresenters",
	"allowLiveShare", "allowMeetingChat", "allowParticipantsToChangeName", "allowPowerPointSharing",
	"allowRecording", "allowTeamworkReactions", "allowTranscription", "allowWhiteboard",
	"chatRestrictions", "endDateTime", "isEndToEndEncryptionEnabled", "isEntryExitAnnounced",
	"joinMeetingIdSettings", "lobbyBypassSettings", "meetingSpokenLanguageTag", "participants",
	"recordAutomatically", "sensitivityLabelAssignment", "shareMeetingChatHistoryDefault",
	"startDateTime", "subject", "watermarkProtection",
}

// meetingReadOnly are the onlineMeeting properties a client cannot set.
var meetingReadOnly = []string{
	"attendeeReport", "audioConferencing", "broadcastSettings", "chatInfo", "cloudVideoInteropInfo",
	"creationDateTime", "expiryDateTime", "externalId", "id", "isBroadcast", "joinInformation",
	"joinWebUrl", "meetingOptionsWebUrl", "meetingTemplateId", "meetingType", "videoTeleconferenceId",
}

// createOrGetMeeting serves POST .../onlineMeetings/createOrGet. The action is
// not in the spec subset, so its body is checked by hand (each value against
// the spec's onlineMeeting property schema when there is a spec); its
// response is checked against the onlineMeeting schema.
func (c *call) createOrGetMeeting() {
	if !c.allowQuery() {
		return
	}
	var in map[string]json.RawMessage
	if !c.decode(&in) {
		return
	}
	for k, raw := range in {
		if !slices.Contains(createOrGetParams, k) {
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "The parameter '%s' in the request payload is not a valid parameter for the operation 'createOrGet'.", k))
			return
		}
		if c.s.spec != nil {
			if err := c.s.spec.checkProperty("microsoft.graph.onlineMeeting", k, raw); err != nil {
				c.fail(errorf(http.StatusBadRequest, "BadRequest", "%v", err))
				return
			}
		}
	}
	var p struct {
		ExternalID    *string        `json:"externalId"`
		Subject       *string        `json:"subject"`
		StartDateTime *time.Time     `json:"startDateTime"`
		EndDateTime   *time.Time     `json:"endDateTime"`
		ChatInfo      map[string]any `json:"chatInfo"`
		Participants  *struct {
			Attendees []map[string]any `json:"attendees"`
		} `json:"participants"`
	}
	if err := json.Unmarshal(c.body, &p); err != nil {
		c.fail(bodyReadError("createOrGet", err))
		return
	}
	if p.ExternalID == nil || *p.ExternalID == "" {
		c.fail(errorf(http.StatusBadRequest, "BadRequest", "The externalId parameter is required."))
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	mb := c.mailbox()
	for _, m := range mb.meetings {
		if m.externalID == *p.ExternalID {
			c.replyMeeting(http.StatusOK, m)
			return
		}
	}
	now := c.s.now().UTC()
	start := now
	if p.StartDateTime != nil {
		start = *p.StartDateTime
	}
	end := start.Add(time.Hour)
	if p.EndDateTime != nil {
		end = *p.EndDateTime
	}
	thread := "19:meeting_" + base64.RawURLEncoding.EncodeToString([]byte(newUUID())) + "@thread.v2"
	id := base64.URLEncoding.EncodeToString([]byte("1*" + c.owner.ID + "*0**" + thread))
	joinURL := teamsJoinURLForThread(thread, c.caller.TenantID, c.owner.ID)
	conf := randomDigits(9)
	attendees := []map[string]any{}
	if p.Participants != nil && p.Participants.Attendees != nil {
		attendees = p.Participants.Attendees
	}
	var subject any
	if p.Subject != nil {
		subject = *p.Subject
	}
	m := &meeting{id: id, externalID: *p.ExternalID, props: map[string]any{
		"@odata.type":      "#microsoft.graph.onlineMeeting",
		"id":               id,
		"externalId":       *p.ExternalID,
		"creationDateTime": now.Format(instantLayout),
		"startDateTime":    start.UTC().Format(instantLayout),
		"endDateTime":      end.UTC().Format(instantLayout),
		"subject":          subject,
		"joinWebUrl":       joinURL,
		"joinInformation": map[string]any{
			"contentType": "html",
			"content":     "data:text/html," + url.QueryEscape(joinInformation(joinURL, conf)),
		},
		"joinMeetingIdSettings": map[string]any{"isPasscodeRequired": true, "joinMeetingId": randomDigits(12), "passcode": passcode()},
		"audioConferencing": map[string]any{
			"conferenceId":    conf,
			"tollNumber":      "+12065550100",
			"tollNumbers":     []string{"+12065550100"},
			"tollFreeNumber":  nil,
			"tollFreeNumbers": []string{},
			"dialinUrl":       "https://dialin.teams.microsoft.com/" + newUUID() + "?id=" + conf,
		},
		"chatInfo": map[string]any{"threadId": thread, "messageId": "0", "replyChainMessageId": nil},
		"participants": map[string]any{
			"organizer": map[string]any{
				"identity": map[string]any{"user": map[string]any{"id": c.owner.ID, "displayName": nil}},
				"upn":      c.owner.UPN,
				"role":     "presenter",
			},
			"attendees": attendees,
		},
		"videoTeleconferenceId":       nil,
		"isBroadcast":                 false,
		"broadcastSettings":           nil,
		"isEntryExitAnnounced":        true,
		"allowedPresenters":           "everyone",
		"allowMeetingChat":            "enabled",
		"allowTeamworkReactions":      true,
		"allowAttendeeToEnableCamera": true,
		"allowAttendeeToEnableMic":    true,
		"allowRecording":              true,
		"allowTranscription":          true,
		"recordAutomatically":         false,
		"lobbyBypassSettings":         map[string]any{"scope": "organization", "isDialInBypassEnabled": false},
	}}
	mb.meetings = append(mb.meetings, m)
	c.replyMeeting(http.StatusCreated, m)
}

// replyMeeting answers a meeting. createOrGet is outside the spec's
// operations, so its response is checked against the schema here; the other
// routes' responses are validated with their operation.
func (c *call) replyMeeting(status int, m *meeting) {
	out := map[string]any{}
	for k, v := range m.props {
		out[k] = v
	}
	if c.r.Method == http.MethodPost && !c.conform("microsoft.graph.onlineMeeting", out) {
		return
	}
	out["@odata.context"] = c.root + "/$metadata#users('" + c.owner.ID + "')/onlineMeetings/$entity"
	c.reply(status, out)
}

func (c *call) findMeeting() (int, *apiError) {
	for i, m := range c.mailbox().meetings {
		if m.id == c.id {
			return i, nil
		}
	}
	return 0, errorf(http.StatusNotFound, "ErrorItemNotFound", "The online meeting '%s' was not found.", c.id)
}

func (c *call) getMeeting() {
	if !c.allowQuery() {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	i, aerr := c.findMeeting()
	if aerr != nil {
		c.fail(aerr)
		return
	}
	c.replyMeeting(http.StatusOK, c.mailbox().meetings[i])
}

// updateMeeting serves PATCH .../onlineMeetings/{id}: the spec validates the
// body; here read-only properties are refused and objects are merged
// property by property, as OData PATCH does for complex values.
func (c *call) updateMeeting() {
	if !c.allowQuery() {
		return
	}
	var in map[string]any
	if !c.decode(&in) {
		return
	}
	for k := range in {
		switch {
		case strings.Contains(k, "@"):
			delete(in, k)
		case slices.Contains(meetingReadOnly, k):
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "The property '%s' of an onlineMeeting is read-only.", k))
			return
		case !slices.Contains(meetingUpdatable, k):
			c.fail(errorf(http.StatusBadRequest, "RequestBodyRead", "The property '%s' does not exist on type 'microsoft.graph.onlineMeeting'. Make sure to only use property names that are defined by the type or mark the type as open type.", k))
			return
		case (k == "startDateTime" || k == "endDateTime") && !isDateTimeOffset(in[k]):
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "The value of '%s' is not a valid DateTimeOffset.", k))
			return
		}
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	i, aerr := c.findMeeting()
	if aerr != nil {
		c.fail(aerr)
		return
	}
	old := c.mailbox().meetings[i]
	m := &meeting{id: old.id, externalID: old.externalID, props: merge(old.props, in)}
	c.mailbox().meetings[i] = m
	c.replyMeeting(http.StatusOK, m)
}

func isDateTimeOffset(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

// merge returns base with patch applied: objects merge recursively, anything
// else (arrays included) is replaced.
func merge(base, patch map[string]any) map[string]any {
	out := make(map[string]any, len(base))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range patch {
		pm, pIsMap := v.(map[string]any)
		bm, bIsMap := out[k].(map[string]any)
		if pIsMap && bIsMap {
			out[k] = merge(bm, pm)
		} else {
			out[k] = v
		}
	}
	return out
}

func (c *call) deleteMeeting() {
	if !c.allowQuery() {
		return
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	i, aerr := c.findMeeting()
	if aerr != nil {
		c.fail(aerr)
		return
	}
	mb := c.mailbox()
	mb.meetings = slices.Delete(mb.meetings, i, i+1)
	c.w.WriteHeader(http.StatusNoContent)
}

// teamsJoinURL makes a join URL for a new meeting thread.
func teamsJoinURL(tenant, organizer string) string {
	return teamsJoinURLForThread("19:meeting_"+base64.RawURLEncoding.EncodeToString([]byte(newUUID()))+"@thread.v2", tenant, organizer)
}

// teamsJoinURLForThread has the form of real Teams join URLs, whose
// percent-escapes are lower-case.
func teamsJoinURLForThread(thread, tenant, organizer string) string {
	ctx := `{"Tid":"` + tenant + `","Oid":"` + organizer + `"}`
	return "https://teams.microsoft.com/l/meetup-join/" + lowerEscapes(url.QueryEscape(thread)) + "/0?context=" + lowerEscapes(url.QueryEscape(ctx))
}

var escapeRE = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerEscapes(s string) string { return escapeRE.ReplaceAllStringFunc(s, strings.ToLower) }

// joinInformation is the HTML Teams generates for joinInformation.content.
func joinInformation(joinURL, conf string) string {
	sep := "<p>" + strings.Repeat("_", 80) + "</p>"
	return sep + `<p><a href="` + html.EscapeString(joinURL) + `" target="_blank">Join Microsoft Teams Meeting</a></p>` +
		`<p>+1 206-555-0100 United States (Toll)</p><p>Conference ID: ` + conf + `#</p>` + sep
}

// passcode is a Teams meeting passcode: six letters and digits.
func passcode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	b := randomBytes(6)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
