package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

type meetingBody struct {
	ID           string `json:"id"`
	ConferenceID string `json:"conferenceId"`
	JoinURL      string `json:"joinUrl"`
	Passcode     string `json:"passcode"`
	DialIn       []struct {
		Region, Number string
	} `json:"dialIn"`
	JoinInfo struct{ HTML, Text string } `json:"joinInfo"`
	Location string                      `json:"location"`
	EventID  string                      `json:"eventId"`
}

type graphEvent struct {
	ID        string `json:"id"`
	Subject   string `json:"subject"`
	ChangeKey string `json:"changeKey"`
	Body      struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	} `json:"body"`
	Location struct {
		DisplayName string `json:"displayName"`
	} `json:"location"`
	IsCancelled bool `json:"isCancelled"`
}

// mailbox reads the emulated mailbox as Graph JSON.
func (h *harness) mailbox(upn string) []graphEvent {
	h.t.Helper()
	raws, err := h.in.sandbox.Graph.Events(upn)
	if err != nil {
		h.t.Fatal(err)
	}
	out := make([]graphEvent, 0, len(raws))
	for _, r := range raws {
		var ev graphEvent
		if err := json.Unmarshal(r, &ev); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

func (h *harness) event(upn, id string) graphEvent {
	h.t.Helper()
	for _, ev := range h.mailbox(upn) {
		if ev.ID == id {
			return ev
		}
	}
	h.t.Fatalf("event %s not in %s's mailbox", id, upn)
	return graphEvent{}
}

func typeOf(ev graphEvent) joininfo.BodyType {
	if strings.EqualFold(ev.Body.ContentType, "text") {
		return joininfo.BodyText
	}
	return joininfo.BodyHTML
}

// blocks counts the join blocks in a body.
func blocks(body string, typ joininfo.BodyType) int {
	n := 0
	for ; n < 10; n++ {
		if _, _, ok := joininfo.Find(body, typ); !ok {
			return n
		}
		body = joininfo.Remove(body, typ)
	}
	return n
}

func meetingRequest(eventID string) map[string]any {
	start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Hour)
	return map[string]any{
		"subject": "Design review", "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339),
		"timeZone": "UTC", "attendees": []string{"alex.wilber@contoso.example"},
		"options": map[string]any{"lobby": "company", "presenters": "everyone"}, "eventId": eventID,
	}
}

func (h *harness) create(tok string, body map[string]any, idem string) (meetingBody, *http.Response) {
	h.t.Helper()
	var m meetingBody
	req := map[string]any{}
	for k, v := range body {
		if v != "" {
			req[k] = v
		}
	}
	resp := h.doWith("POST", "/api/v1/meetings", tok, req, &m, map[string]string{"Idempotency-Key": idem})
	return m, resp
}

func TestAddOnlineMeetingToExistingItem(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	ev := h.mailbox(adele)[0]
	userText := ev.Body.Content

	m, resp := h.create(tok, meetingRequest(ev.ID), "add-1")
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	if len(m.ConferenceID) != 7 || m.JoinURL == "" || m.EventID != ev.ID || m.JoinInfo.HTML == "" || m.JoinInfo.Text == "" || len(m.DialIn) == 0 || m.Passcode == "" {
		t.Fatalf("meeting = %+v", m)
	}
	got := h.event(adele, ev.ID)
	if n := blocks(got.Body.Content, typeOf(got)); n != 1 {
		t.Fatalf("blocks after create = %d", n)
	}
	if got.Location.DisplayName != m.Location {
		t.Errorf("location = %q, want %q", got.Location.DisplayName, m.Location)
	}
	if id, ok := joininfo.ConferenceIDOf(got.Body.Content, typeOf(got)); !ok || id != m.ConferenceID {
		t.Errorf("block's conference ID = %q %v", id, ok)
	}
	if rest := joininfo.Remove(got.Body.Content, typeOf(got)); rest != userText {
		t.Errorf("user text changed:\n%q\nwant\n%q", rest, userText)
	}

	// Five more writes, some after Exchange-style rewriting of the body.
	for i := 0; i < 5; i++ {
		cur := h.event(adele, ev.ID)
		if i%2 == 1 {
			mangled := strings.ReplaceAll(cur.Body.Content, "\r\n", "\n")
			mangled = strings.ReplaceAll(mangled, `id="`, `id="x_`)
			mangled = strings.ReplaceAll(mangled, `class="`, `class="x_`)
			if err := h.in.sandbox.Graph.SetEventBody(adele, ev.ID, "html", mangled); err != nil {
				t.Fatal(err)
			}
		}
		var again meetingBody
		if resp := h.do("PUT", "/api/v1/meetings/"+m.ID+"/calendar", tok, nil, &again); resp.StatusCode != 200 {
			t.Fatalf("write %d: status %d", i, resp.StatusCode)
		}
		after := h.event(adele, ev.ID)
		if n := blocks(after.Body.Content, typeOf(after)); n != 1 {
			t.Fatalf("write %d: %d blocks:\n%s", i, n, after.Body.Content)
		}
	}
	final := h.event(adele, ev.ID)
	restored := joininfo.Remove(final.Body.Content, typeOf(final))
	if !strings.Contains(restored, "Agenda for") {
		t.Errorf("user text lost: %q", restored)
	}

	// Another user cannot see, change or delete it.
	other := h.token("alex.wilber@contoso.example")
	for _, method := range []string{"GET", "DELETE"} {
		var e apiError
		if resp := h.do(method, "/api/v1/meetings/"+m.ID, other, nil, &e); resp.StatusCode != 404 || e.Error.Code != "not_found" {
			t.Errorf("%s by another user: %d %+v", method, resp.StatusCode, e)
		}
	}
	var e apiError
	if resp := h.do("PATCH", "/api/v1/meetings/"+m.ID, other, map[string]any{"options": map[string]any{"lobby": "everyone"}}, &e); resp.StatusCode != 404 {
		t.Errorf("PATCH by another user: %d", resp.StatusCode)
	}

	// The Jitsi directory finds it by ID and by room.
	var byID struct {
		ID         int64 `json:"id"`
		Conference any   `json:"conference"`
	}
	h.do("GET", "/jitsi/conferenceMapper?id="+m.ConferenceID, "", nil, &byID)
	room, _ := byID.Conference.(string)
	if fmt.Sprint(byID.ID) != m.ConferenceID || room == "" {
		t.Fatalf("mapper by id = %+v", byID)
	}
	var byName struct {
		ID         int64 `json:"id"`
		Conference any   `json:"conference"`
	}
	h.do("GET", "/jitsi/conferenceMapper?conference="+room, "", nil, &byName)
	if fmt.Sprint(byName.ID) != m.ConferenceID {
		t.Fatalf("mapper by name = %+v", byName)
	}

	// Delete strips the block, keeps the user's text, frees the conference.
	if resp := h.do("DELETE", "/api/v1/meetings/"+m.ID, tok, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	gone := h.event(adele, ev.ID)
	if n := blocks(gone.Body.Content, typeOf(gone)); n != 0 || !strings.Contains(gone.Body.Content, "Agenda for") {
		t.Fatalf("after delete: %d blocks, body %q", n, gone.Body.Content)
	}
	if gone.Location.DisplayName == m.Location {
		t.Error("location still points at the freed meeting")
	}
	byID.Conference = nil
	h.do("GET", "/jitsi/conferenceMapper?id="+m.ConferenceID, "", nil, &byID)
	if byID.Conference != false {
		t.Fatalf("freed conference still maps: %+v", byID)
	}
	if resp := h.do("GET", "/api/v1/meetings/"+m.ID, tok, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("deleted meeting: %d", resp.StatusCode)
	}
}

func TestConcurrentCreatesWithOneKey(t *testing.T) {
	t.Parallel()
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			prefix := ""
			if store == "redis" {
				env["WEBSCHEDULER_REDIS_URL"] = testRedisURL(t)
				env["WEBSCHEDULER_ENCRYPTION_KEY"] = "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk="
				prefix = randomPrefix()
				redisClient(t, env["WEBSCHEDULER_REDIS_URL"], prefix) // removes the keys afterwards
			}
			h := startSandbox(t, env, prefix)
			tok := h.token(adele)
			ev := h.mailbox(adele)[1]
			var wg sync.WaitGroup
			ids := make([]string, 20)
			codes := make([]int, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m, resp := h.create(tok, meetingRequest(ev.ID), "same-key")
					ids[i], codes[i] = m.ID, resp.StatusCode
				}()
			}
			wg.Wait()
			for i := range ids {
				if codes[i] != 201 || ids[i] == "" || ids[i] != ids[0] {
					t.Fatalf("request %d: status %d id %q, first id %q", i, codes[i], ids[i], ids[0])
				}
			}
			got := h.event(adele, ev.ID)
			if n := blocks(got.Body.Content, typeOf(got)); n != 1 {
				t.Fatalf("%d blocks", n)
			}
			// Another key is another meeting.
			m2, _ := h.create(tok, meetingRequest(""), "other-key")
			if m2.ID == "" || m2.ID == ids[0] {
				t.Fatalf("second key gave %q", m2.ID)
			}
		})
	}
}

func TestCalendarWriteFailureThenRetry(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	ev := h.mailbox(adele)[0]
	h.in.sandbox.Graph.Faults().Set("events.update", fault.Fault{Status: 500})
	var e apiError
	resp := h.doWith("POST", "/api/v1/meetings", tok, meetingRequest(ev.ID), &e, map[string]string{"Idempotency-Key": "retry-me"})
	if resp.StatusCode != 502 || e.Error.Code != "graph_unavailable" {
		t.Fatalf("failed write: %d %+v", resp.StatusCode, e)
	}
	if n := blocks(h.event(adele, ev.ID).Body.Content, joininfo.BodyHTML); n != 0 {
		t.Fatalf("a failed write left %d blocks", n)
	}
	h.in.sandbox.Graph.Faults().Clear("events.update")
	m1, resp := h.create(tok, meetingRequest(ev.ID), "retry-me")
	if resp.StatusCode != 201 || m1.EventID != ev.ID {
		t.Fatalf("retry: %d %+v", resp.StatusCode, m1)
	}
	m2, _ := h.create(tok, meetingRequest(ev.ID), "retry-me")
	if m2.ConferenceID != m1.ConferenceID {
		t.Fatalf("a retry allocated a second conference: %s vs %s", m1.ConferenceID, m2.ConferenceID)
	}
	if n := blocks(h.event(adele, ev.ID).Body.Content, joininfo.BodyHTML); n != 1 {
		t.Fatalf("%d blocks after retry", n)
	}
}

func TestGraphThrottlingThenSuccess(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	ev := h.mailbox(adele)[0]
	h.in.sandbox.Graph.Faults().Set("events.get", fault.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
	m, resp := h.create(tok, meetingRequest(ev.ID), "")
	if resp.StatusCode != 201 || m.EventID != ev.ID {
		t.Fatalf("after a 429: %d %+v", resp.StatusCode, m)
	}
	if hits := h.in.sandbox.Graph.Faults().Hits("events.get"); hits != 2 {
		t.Errorf("events.get hits = %d, want 2 (one throttled, one retried)", hits)
	}
}

const hostileName = `Eve <img src=x onerror=alert(1)> "Mallory" & Co`

func TestCreateEventAndEscaping(t *testing.T) {
	t.Parallel()
	h := startSandboxWith(t, nil, testHooks{extraUsers: []sandbox.User{{
		OID: "6a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b", UPN: "eve@contoso.example", Name: hostileName,
		Proxies: []string{"SMTP:eve@contoso.example", "SIP:eve@contoso.example"},
	}}})
	tok := h.token("eve@contoso.example")
	req := meetingRequest("")
	req["createEvent"] = true
	req["subject"] = `<img src=x onerror=alert(1)> planning`
	m, resp := h.create(tok, req, "")
	if resp.StatusCode != 201 || m.EventID == "" {
		t.Fatalf("createEvent: %d %+v", resp.StatusCode, m)
	}
	ev := h.event("eve@contoso.example", m.EventID)
	if ev.Subject != `<img src=x onerror=alert(1)> planning` {
		t.Errorf("subject = %q", ev.Subject)
	}
	if n := blocks(ev.Body.Content, typeOf(ev)); n != 1 {
		t.Fatalf("%d blocks in a created item", n)
	}
	if strings.Contains(m.JoinInfo.HTML, "<img") || strings.Contains(ev.Body.Content, "<img") {
		t.Error("markup from input reached the join block")
	}
	if !strings.Contains(m.JoinInfo.HTML, "Eve &lt;img src=x onerror=alert(1)&gt; &#34;Mallory&#34; &amp; Co") {
		t.Errorf("organizer name not shown escaped in HTML:\n%s", m.JoinInfo.HTML)
	}
	if !strings.Contains(m.JoinInfo.Text, hostileName) {
		t.Errorf("organizer name not shown literally in text:\n%s", m.JoinInfo.Text)
	}
}

func TestMeetingValidation(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	good := meetingRequest("")
	tests := []struct {
		name string
		body any
		raw  string
	}{
		{"end before start", merge(good, map[string]any{"end": "2020-01-01T00:00:00Z"}), ""},
		{"bad lobby", merge(good, map[string]any{"options": map[string]any{"lobby": "nobody"}}), ""},
		{"named presenters without names", merge(good, map[string]any{"options": map[string]any{"presenters": "named"}}), ""},
		{"bad attendee", merge(good, map[string]any{"attendees": []string{"not an address"}}), ""},
		{"unknown field", merge(good, map[string]any{"subjct": "typo"}), ""},
		{"not json", nil, "{nope"},
		{"bad time", merge(good, map[string]any{"start": "tomorrow"}), ""},
		{"both eventId and createEvent", merge(good, map[string]any{"eventId": "x", "createEvent": true}), ""},
	}
	for _, tt := range tests {
		var e apiError
		var resp *http.Response
		if tt.raw != "" {
			resp = h.doRaw("POST", "/api/v1/meetings", tok, tt.raw, &e)
		} else {
			resp = h.do("POST", "/api/v1/meetings", tok, tt.body, &e)
		}
		if resp.StatusCode != 400 || e.Error.Code != "invalid_request" || e.Error.Message == "" || strings.Contains(e.Error.Message, "json:") {
			t.Errorf("%s: %d %+v", tt.name, resp.StatusCode, e)
		}
	}
}

func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestTeamsProviderThroughGraph(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, map[string]string{"WEBSCHEDULER_PROVIDER": "teams"}, "")
	tok := h.token(adele)
	ev := h.mailbox(adele)[0]
	g := h.in.sandbox.Graph.Faults()

	m, resp := h.create(tok, meetingRequest(ev.ID), "teams-1")
	if resp.StatusCode != 201 || !strings.HasPrefix(m.JoinURL, "https://teams.microsoft.com/") || m.ConferenceID == "" {
		t.Fatalf("teams meeting: %d %+v", resp.StatusCode, m)
	}
	again, _ := h.create(tok, meetingRequest(ev.ID), "teams-1")
	if again.JoinURL != m.JoinURL {
		t.Fatalf("same key, another Teams meeting: %s vs %s", again.JoinURL, m.JoinURL)
	}
	if n := g.Hits("onlineMeetings.createOrGet"); n != 1 {
		t.Errorf("createOrGet calls = %d, want 1", n)
	}
	if n := g.Hits("onlineMeetings.update"); n != 1 {
		t.Errorf("lobby/presenter PATCH calls = %d, want 1", n)
	}
	if n := blocks(h.event(adele, ev.ID).Body.Content, joininfo.BodyHTML); n != 1 {
		t.Fatalf("%d blocks", n)
	}
	var patched meetingBody
	if resp := h.do("PATCH", "/api/v1/meetings/"+m.ID, tok, map[string]any{"options": map[string]any{"lobby": "everyone", "presenters": "organizer"}}, &patched); resp.StatusCode != 200 {
		t.Fatalf("patch: %d", resp.StatusCode)
	}
	if n := g.Hits("onlineMeetings.update"); n != 2 {
		t.Errorf("PATCH calls after update = %d, want 2", n)
	}
	// The add-in reports changed attendees: Teams learns its participants.
	if resp := h.do("PATCH", "/api/v1/meetings/"+m.ID, tok, map[string]any{"attendees": []string{"alex.wilber@contoso.example", "megan@contoso.example"}}, &patched); resp.StatusCode != 200 {
		t.Fatalf("patch attendees: %d", resp.StatusCode)
	}
	if n := g.Hits("onlineMeetings.update"); n != 3 {
		t.Errorf("PATCH calls after attendees changed = %d, want 3", n)
	}
	var bad apiError
	if resp := h.do("PATCH", "/api/v1/meetings/"+m.ID, tok, map[string]any{"attendees": []string{"<script>"}}, &bad); resp.StatusCode != 400 || bad.Error.Code != "invalid_request" {
		t.Errorf("bad attendee: %d %+v", resp.StatusCode, bad)
	}
	if resp := h.do("DELETE", "/api/v1/meetings/"+m.ID, tok, nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if n := g.Hits("onlineMeetings.delete"); n != 1 {
		t.Errorf("Teams meeting deletions = %d, want 1", n)
	}
}

// A conference whose calendar write failed and is never retried must not
// outlive the cleanup pass: in Redis it carries a short TTL until the
// write succeeds, then lives until the meeting ends plus retention.
func TestFailedCreateLeavesNoLongLivedConference(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	prefix := randomPrefix()
	h := startSandbox(t, map[string]string{
		"WEBSCHEDULER_REDIS_URL":      redisURL,
		"WEBSCHEDULER_ENCRYPTION_KEY": "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=",
	}, prefix)
	rc := redisClient(t, redisURL, prefix)
	tok := h.token(adele)
	ev := h.mailbox(adele)[0]
	h.in.sandbox.Graph.Faults().Set("events.update", fault.Fault{Status: 503})
	if resp := h.do("POST", "/api/v1/meetings", tok, meetingRequest(ev.ID), nil); resp.StatusCode < 500 {
		t.Fatalf("write should fail: %d", resp.StatusCode)
	}
	confKeys := func() map[string]time.Duration {
		keys, err := rc.Keys(t.Context(), prefix+"conf:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]time.Duration{}
		for _, k := range keys {
			out[k] = rc.PTTL(t.Context(), k).Val()
		}
		return out
	}
	pending := confKeys()
	if len(pending) == 0 {
		t.Fatal("no conference stored")
	}
	for k, ttl := range pending {
		if ttl <= 0 || ttl > time.Hour {
			t.Errorf("pending %s lives %v, want at most an hour", k, ttl)
		}
	}
	h.in.sandbox.Graph.Faults().Clear("events.update")
	m, resp := h.create(tok, meetingRequest(ev.ID), "")
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	for k, ttl := range confKeys() {
		if strings.Contains(k, m.ID) && ttl < 24*time.Hour {
			t.Errorf("completed %s lives only %v", k, ttl)
		}
	}
}

func TestPatchTimesMovesTheCalendarItem(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	ev := h.mailbox(adele)[0]
	m, resp := h.create(tok, meetingRequest(ev.ID), "")
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	var moved struct {
		Start, End time.Time
	}
	patch := map[string]any{"start": start.Format(time.RFC3339), "end": start.Add(90 * time.Minute).Format(time.RFC3339)}
	if resp := h.do("PATCH", "/api/v1/meetings/"+m.ID, tok, patch, &moved); resp.StatusCode != 200 || !moved.Start.Equal(start) {
		t.Fatalf("patch: %d %+v", resp.StatusCode, moved)
	}
	var raw []json.RawMessage
	raw, _ = h.in.sandbox.Graph.Events(adele)
	for _, r := range raw {
		var e struct {
			ID    string `json:"id"`
			Start struct {
				DateTime string `json:"dateTime"`
			} `json:"start"`
			Body struct{ Content string } `json:"body"`
		}
		_ = json.Unmarshal(r, &e)
		if e.ID != ev.ID {
			continue
		}
		if !strings.HasPrefix(e.Start.DateTime, start.Format("2006-01-02T15:04:05")) {
			t.Errorf("calendar item starts %s, want %s", e.Start.DateTime, start)
		}
		if n := blocks(e.Body.Content, joininfo.BodyHTML); n != 1 {
			t.Errorf("%d blocks after moving", n)
		}
		return
	}
	t.Fatal("event gone")
}
