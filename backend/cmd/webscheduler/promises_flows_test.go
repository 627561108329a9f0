package main

import (
	"archive/zip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/addin"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// promiseFlow is one thing people do with the product, run end to end
// through the real service; TestPromises checks every promise over it.
type promiseFlow struct {
	name string
	// setsCookies: TestPromisesOverTLS runs it too.
	setsCookies bool
	run         func(t *testing.T, s *suite)
}

// promiseFlows is every flow of the product. Add new ones here.
var promiseFlows = []promiseFlow{
	{"addin-files", false, flowAddinFiles},
	{"addin-sign-in-dialog", true, flowAddinSignInDialog},
	{"meetings-api", false, flowMeetingsAPI},
	{"create-event-and-cancel", false, flowCreateEventAndCancel},
	{"calendar-write-retry", false, flowCalendarWriteRetry},
	{"delegate", false, flowDelegate},
	{"pages-and-manifests", false, flowPages},
	{"jitsi-directory", false, flowJitsiDirectory},
	{"errors", false, flowErrors},
	{"sandbox-inspection", false, flowSandboxInspection},
	{"web-page", true, flowWebPage},
	{"admin", true, flowAdmin},
	{"qoe", false, flowQoE},
}

func randomKey() string { return "promise-" + rand.Text()[:10] }

// want fails the flow when a response has another status.
func (s *suite) want(resp *http.Response, status int, what string) {
	s.t.Helper()
	if resp.StatusCode != status {
		s.t.Fatalf("%s: status %d, want %d", what, resp.StatusCode, status)
	}
}

// me reads the signed-in user and registers their names and addresses.
func (s *suite) me(tok string) meBody {
	s.t.Helper()
	var me meBody
	s.want(s.call("GET", "/api/v1/me", tok, nil, &me), 200, "GET /api/v1/me")
	for _, n := range []string{me.DisplayName, me.GivenName} {
		s.secrets.add("name", n)
	}
	for _, a := range []string{me.Mail, me.UserPrincipalName, me.PrimarySMTP, me.SIPAddress} {
		s.secrets.add("address", a)
	}
	for _, p := range me.ProxyAddresses {
		if p.Type == "SMTP" || p.Type == "SIP" {
			s.secrets.add("address", p.Address)
		}
	}
	return me
}

// createMeeting posts a meeting and registers its passcode.
func (s *suite) createMeeting(tok string, req map[string]any, idem string) meetingBody {
	s.t.Helper()
	if subj, ok := req["subject"].(string); ok {
		s.secrets.add("subject", subj)
	}
	if as, ok := req["attendees"].([]string); ok {
		for _, a := range as {
			s.secrets.add("address", a)
		}
	}
	var m meetingBody
	h := map[string]string{}
	if idem != "" {
		h["Idempotency-Key"] = idem
	}
	s.want(s.callWith("POST", "/api/v1/meetings", tok, req, &m, h), 201, "POST /api/v1/meetings")
	s.secrets.add("passcode", m.Passcode)
	return m
}

func flowAddinFiles(t *testing.T, s *suite) {
	n := 0
	err := fs.WalkDir(addin.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		resp, _ := s.get(s.client, "/addin/"+path)
		s.want(resp, 200, "GET /addin/"+path)
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walking the add-in's files: %d files, %v", n, err)
	}
}

// flowAddinSignInDialog is the add-in's fallback sign-in: the Office dialog
// runs authorization code + PKCE in a browser and hands back a token.
func flowAddinSignInDialog(t *testing.T, s *suite) {
	browser := s.browser()
	resp, page := s.get(browser, "/addin/auth.html?login_hint="+url.QueryEscape(adele))
	m := authResult.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("dialog ended with %d: %.300s", resp.StatusCode, page)
	}
	var result struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &result); err != nil || result.Token == "" {
		t.Fatalf("dialog result %s: %v", m[1], err)
	}
	s.secrets.add("token", result.Token)
	s.me(result.Token)
	// A callback from another window (no flow cookie) is refused.
	_, page = s.get(s.client, "/addin/auth.html?code=forged-code-123&state=forged")
	if !strings.Contains(page, "sso_failed") {
		t.Fatalf("a forged callback was not refused: %.300s", page)
	}
}

// flowMeetingsAPI is the add-in's whole life of a meeting.
func flowMeetingsAPI(t *testing.T, s *suite) {
	tok := s.token(adele)
	s.me(tok)
	s.want(s.call("GET", "/api/v1/settings/addin", tok, nil, nil), 200, "GET settings")
	ev := s.h.mailbox(adele)[0]
	req := meetingRequest(ev.ID)
	req["subject"] = "Quarterly numbers with the Contoso legal team"
	key := randomKey()
	m := s.createMeeting(tok, req, key)
	if again := s.createMeeting(tok, req, key); again.ID != m.ID {
		t.Fatalf("the same Idempotency-Key gave meetings %s and %s", m.ID, again.ID)
	}
	s.want(s.call("GET", "/api/v1/meetings/"+m.ID, tok, nil, nil), 200, "GET meeting")
	from, to := time.Now().UTC().Format(time.RFC3339), time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339)
	s.want(s.call("GET", "/api/v1/meetings?start="+from+"&end="+to, tok, nil, nil), 200, "list meetings")
	s.want(s.call("PATCH", "/api/v1/meetings/"+m.ID, tok, map[string]any{"options": map[string]any{"lobby": "everyone"}}, nil), 200, "PATCH meeting")
	s.want(s.call("PUT", "/api/v1/meetings/"+m.ID+"/calendar", tok, nil, nil), 200, "PUT calendar")

	// A meeting without a calendar item, then deleted.
	other := s.createMeeting(tok, meetingRequest(""), "")
	s.want(s.call("DELETE", "/api/v1/meetings/"+other.ID, tok, nil, nil), 204, "DELETE meeting")
}

// flowCreateEventAndCancel is the web page's way: the calendar item is
// created with the meeting; one is then cancelled with a message.
func flowCreateEventAndCancel(t *testing.T, s *suite) {
	tok := s.token(alex)
	s.me(tok)
	req := meetingRequest("")
	req["createEvent"] = true
	req["subject"] = "Merger talks with Fabrikam"
	req["attendees"] = []string{adele, "megan.bowen@fabrikam.example"}
	m := s.createMeeting(tok, req, randomKey())
	if m.EventID == "" {
		t.Fatal("no calendar item was created")
	}
	req["subject"] = "Budget review, strictly confidential"
	gone := s.createMeeting(tok, req, randomKey())
	comment := "Cancelled because the budget moved"
	s.secrets.add("body", comment)
	s.want(s.call("DELETE", "/api/v1/meetings/"+gone.ID+"?cancelEvent=true&comment="+url.QueryEscape(comment), tok, nil, nil), 204, "cancel meeting")
}

// flowDelegate: Adele, a delegate of Alex in the sandbox, schedules a
// meeting into Alex's calendar and lists it there.
func flowDelegate(t *testing.T, s *suite) {
	tok := s.token(adele)
	req := meetingRequest("")
	req["createEvent"], req["mailbox"], req["subject"] = true, alex, "Hiring panel for Alex's team"
	if m := s.createMeeting(tok, req, randomKey()); m.EventID == "" {
		t.Fatal("no item in the owner's calendar")
	}
	from, to := time.Now().UTC().Format(time.RFC3339), time.Now().Add(30*24*time.Hour).UTC().Format(time.RFC3339)
	s.want(s.call("GET", "/api/v1/meetings?mailbox="+url.QueryEscape(alex)+"&start="+from+"&end="+to, tok, nil, nil), 200, "the owner's list")
}

// flowCalendarWriteRetry: Graph fails the write, the add-in retries with
// the same key and gets the same meeting. Under -race it also guards
// graph.ownBody: the SDK's own retries of a write raced on its body.
func flowCalendarWriteRetry(t *testing.T, s *suite) {
	tok := s.token(adele)
	ev := s.h.mailbox(adele)[1]
	g := s.h.in.sandbox.Graph.Faults()
	g.Set("events.update", fault.Fault{Status: 503, Times: 4})
	key := randomKey()
	var e apiError
	resp := s.callWith("POST", "/api/v1/meetings", tok, meetingRequest(ev.ID), &e, map[string]string{"Idempotency-Key": key})
	if resp.StatusCode < 500 || e.Error.Code == "" {
		t.Fatalf("failed write: %d %+v", resp.StatusCode, e)
	}
	g.Clear("events.update")
	s.createMeeting(tok, meetingRequest(ev.ID), key)
}

func flowPages(t *testing.T, s *suite) {
	for path, status := range map[string]int{
		"/": 200, "/dialin": 200, "/help": 200, "/join/1234567": 200,
		"/healthz": 200, "/readyz": 200, "/metrics": 200, "/no/such/page": 404,
	} {
		resp, _ := s.get(s.client, path)
		s.want(resp, status, "GET "+path)
	}
	manifests := map[string]string{}
	for _, path := range []string{"/manifest.xml", "/manifest.json", "/manifest.zip"} {
		resp, body := s.get(s.client, path)
		if want := map[bool]int{true: 200, false: 409}[s.tls]; resp.StatusCode != want { // 409: Outlook needs https
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
		manifests[path] = body
	}
	if s.tls { // the app package carries the unified manifest as served
		z, err := zip.NewReader(strings.NewReader(manifests["/manifest.zip"]), int64(len(manifests["/manifest.zip"])))
		if err != nil {
			t.Fatalf("/manifest.zip: %v", err)
		}
		var inside []byte
		for _, f := range z.File {
			if f.Name == "manifest.json" {
				r, _ := f.Open()
				inside, _ = io.ReadAll(r)
				r.Close()
			}
		}
		if len(z.File) != 3 || string(inside) != manifests["/manifest.json"] {
			t.Errorf("/manifest.zip holds %d files, its manifest.json equal to /manifest.json: %v", len(z.File), string(inside) == manifests["/manifest.json"])
		}
	}
}

// flowJitsiDirectory is Jitsi Meet and Jigasi looking a conference up.
func flowJitsiDirectory(t *testing.T, s *suite) {
	tok := s.token(adele)
	m := s.createMeeting(tok, meetingRequest(""), "")
	var byID struct {
		Conference any `json:"conference"`
	}
	s.want(s.call("GET", "/jitsi/conferenceMapper?id="+m.ConferenceID, "", nil, &byID), 200, "mapper by id")
	if room, ok := byID.Conference.(string); ok {
		s.want(s.call("GET", "/jitsi/conferenceMapper?conference="+url.QueryEscape(room), "", nil, nil), 200, "mapper by room")
		s.want(s.call("GET", "/jitsi/phoneNumberList?conference="+url.QueryEscape(room), "", nil, nil), 200, "phone numbers")
	} else if s.h.in.cfg.Provider != "teams" {
		t.Fatalf("the directory does not know conference %s: %+v", m.ConferenceID, byID)
	}
}

// flowErrors: what strangers and broken clients get.
func flowErrors(t *testing.T, s *suite) {
	s.want(s.call("GET", "/api/v1/me", "", nil, nil), 401, "no token")
	s.want(s.call("GET", "/api/v1/me", "not-a-jwt", nil, nil), 401, "bad token")
	s.want(s.call("GET", "/api/v1/no-such-route", s.token(adele), nil, nil), 404, "unknown API route")
	big := map[string]any{"subject": strings.Repeat("x", 100<<10)}
	s.want(s.call("POST", "/api/v1/meetings", s.token(adele), big, nil), 413, "oversized body")
	evil := map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "DELETE"}
	s.callWith("OPTIONS", "/api/v1/meetings", "", nil, nil, evil)
	s.callWith("GET", "/api/v1/me", s.token(adele), nil, nil, evil)
	s.callWith("OPTIONS", "/jitsi/conferenceMapper", "", nil, nil, evil)
}

// flowSandboxInspection reads the emulated mailbox as a tester would.
func flowSandboxInspection(t *testing.T, s *suite) {
	resp, _ := s.get(s.client, fmt.Sprintf("/sandbox/mailboxes/%s/events", url.PathEscape(adele)))
	s.want(resp, 200, "sandbox mailbox")
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// webSignIn signs upn in to the Web Scheduler page in a browser of its own
// and returns the browser.
func (s *suite) webSignIn(upn string) *http.Client {
	s.t.Helper()
	b := s.browser()
	resp, page := s.get(b, "/signin?login_hint="+url.QueryEscape(upn)+"&next=/meetings")
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/meetings" {
		s.t.Fatalf("web sign-in ended at %s with %d: %.300s", resp.Request.URL, resp.StatusCode, page)
	}
	return b
}

// form posts a form from the page, with the page's own origin.
func (s *suite) form(b *http.Client, path string, v url.Values) (*http.Response, string) {
	s.t.Helper()
	var raw json.RawMessage
	resp := s.send(b, "POST", path, strings.NewReader(v.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": s.h.base}, &raw)
	return resp, string(raw)
}

// csrfOf reads the anti-forgery token from a page of the site.
func (s *suite) csrfOf(b *http.Client, path string) string {
	s.t.Helper()
	_, page := s.get(b, path)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		s.t.Fatalf("no anti-forgery token on %s: %.300s", path, page)
	}
	return html.UnescapeString(m[1])
}

// flowWebPage is a person without Outlook: sign in, schedule, look, edit,
// export, cancel, sign out.
func flowWebPage(t *testing.T, s *suite) {
	b := s.webSignIn(alex)
	csrf := s.csrfOf(b, "/meetings/new")
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	subject := "Salary round for the support team"
	s.secrets.add("subject", subject)
	s.secrets.add("address", "diego.siciliani@fabrikam.example")
	resp, page := s.form(b, "/meetings", url.Values{
		"csrf": {csrf}, "idem": {randomKey()}, "subject": {subject},
		"start": {start.Format("2006-01-02T15:04")}, "end": {start.Add(time.Hour).Format("2006-01-02T15:04")}, "tz": {"UTC"},
		"attendees": {adele + "\ndiego.siciliani@fabrikam.example"}, "lobby": {"company"}, "presenters": {"everyone"},
	})
	id := strings.TrimPrefix(resp.Request.URL.Path, "/meetings/")
	if resp.StatusCode != 200 || id == "" || strings.Contains(id, "/") {
		t.Fatalf("creating from the page ended at %s with %d: %.300s", resp.Request.URL, resp.StatusCode, page)
	}
	for _, p := range []string{"/meetings", "/meetings/" + id, "/meetings/" + id + "/edit", "/meetings/" + id + "/delete", "/people?q=ad"} {
		resp, _ := s.get(b, p)
		s.want(resp, 200, "GET "+p)
	}
	resp, ics := s.get(b, "/api/v1/meetings/"+id+"/ics")
	if resp.StatusCode != 200 || !strings.Contains(ics, "BEGIN:VCALENDAR") {
		t.Fatalf("iCalendar export: %d %.200s", resp.StatusCode, ics)
	}
	resp, _ = s.form(b, "/meetings/"+id, url.Values{
		"csrf": {csrf}, "subject": {subject}, "tz": {"UTC"},
		"start": {start.Add(time.Hour).Format("2006-01-02T15:04")}, "end": {start.Add(2 * time.Hour).Format("2006-01-02T15:04")},
		"lobby": {"everyone"}, "presenters": {"everyone"},
	})
	s.want(resp, 200, "edit from the page")
	comment := "Moved to next quarter, sorry"
	s.secrets.add("body", comment)
	resp, _ = s.form(b, "/meetings/"+id+"/delete", url.Values{"csrf": {csrf}, "comment": {comment}})
	s.want(resp, 200, "cancel from the page")
	resp, _ = s.form(b, "/signout", url.Values{"csrf": {csrf}})
	s.want(resp, 200, "sign out")
	if resp, _ := s.get(b, "/meetings"); resp.Request.URL.Path == "/meetings" {
		t.Fatalf("after sign-out /meetings still answers %d", resp.StatusCode)
	}
}

// flowAdmin is an admin: settings, templates, audit, a dry-run refresh
// with its report, through the API and the admin page.
func flowAdmin(t *testing.T, s *suite) {
	tok := s.token(adele)
	var cur json.RawMessage
	s.want(s.call("GET", "/api/v1/admin/settings", tok, nil, &cur), 200, "GET admin settings")
	for _, p := range []string{"/api/v1/admin/templates", "/api/v1/admin/audit", "/api/v1/admin/changes"} {
		s.want(s.call("GET", p, tok, nil, nil), 200, "GET "+p)
	}
	s.want(s.call("POST", "/api/v1/admin/templates/preview", tok, map[string]any{"locale": "en"}, nil), 200, "template preview")
	s.want(s.call("PUT", "/api/v1/admin/settings/policy", tok, map[string]any{"autoAddToNewMeetings": true}, nil), 200, "policy change")
	// Change tracking follows the mailboxes (Graph delta) from here on.
	s.want(s.call("PUT", "/api/v1/admin/settings/tracking", tok, map[string]any{"enabled": true, "repair": true}, nil), 200, "tracking on")
	// A bulk refresh: a dry run, its report, then the run that applies it.
	run := func(body map[string]any) string {
		var job struct {
			ID string `json:"id"`
		}
		s.want(s.call("POST", "/api/v1/admin/refresh", tok, body, &job), 202, fmt.Sprintf("refresh %v", body))
		var progress struct {
			Job struct {
				Status string `json:"status"`
			} `json:"job"`
		}
		for deadline := time.Now().Add(60 * time.Second); progress.Job.Status != "done" && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			s.call("GET", "/api/v1/admin/refresh/"+job.ID, tok, nil, &progress)
		}
		if progress.Job.Status != "done" {
			t.Fatalf("refresh %v ended %q", body, progress.Job.Status)
		}
		s.want(s.call("GET", "/api/v1/admin/refresh/"+job.ID+"/report.csv", tok, nil, nil), 200, "refresh report")
		return job.ID
	}
	dry := run(map[string]any{"dryRun": true})
	run(map[string]any{"dryRun": false, "after": dry})
	s.want(s.call("GET", "/api/v1/admin/stale", tok, nil, nil), 200, "stale view")

	b := s.webSignIn(adele)
	for _, p := range []string{"/admin", "/admin/ui/admin.js"} {
		resp, _ := s.get(b, p)
		s.want(resp, 200, "GET "+p)
	}
	resp, _ := s.get(b, "/api/v1/admin/settings")
	s.want(resp, 200, "admin settings with the page's session")
}

// flowQoE: call quality is received and stored only when an admin turned
// it on (WEBSCHEDULER_QOE_DATABASE_URL); its reports are for admins only.
func flowQoE(t *testing.T, s *suite) {
	cfg := s.h.in.cfg
	reports := []string{"/reports/daily", "/reports/subnets", "/reports/devices", "/reports/users/" + url.PathEscape(adele) + "/calls"}
	admin, user := s.token(adele), s.token(alex)
	ingest := func(key string) int {
		resp := s.send(s.client, "POST", "/api/v1/admin/qoe/ingest", strings.NewReader(vqReport),
			map[string]string{"Content-Type": "application/vq-rtcpxr", "Authorization": "Bearer " + key}, nil)
		return resp.StatusCode
	}
	notify := s.send(s.client, "POST", "/api/v1/admin/qoe/teams/notifications", strings.NewReader(`{"value":[]}`),
		map[string]string{"Content-Type": "application/json"}, nil).StatusCode
	if cfg.QoEDatabaseURL == "" {
		if cfg.QoESIPAddr != "" {
			t.Fatal("a SIP listener is configured with QoE off")
		}
		if got := ingest("promise-ingest-key-0123"); got != 404 {
			t.Errorf("ingestion with QoE off: %d, want 404", got)
		}
		if notify != 404 {
			t.Errorf("Teams notifications with QoE off: %d, want 404", notify)
		}
		for _, r := range reports {
			s.want(s.call("GET", "/api/v1/admin/qoe"+r, admin, nil, nil), 404, "QoE report with QoE off")
		}
		return
	}
	if got := ingest("not-the-ingestion-key"); got != 401 {
		t.Errorf("ingestion with a wrong key: %d, want 401", got)
	}
	if got := ingest(cfg.QoEIngestKey); got/100 != 2 {
		t.Fatalf("ingestion: %d", got)
	}
	s.secrets.add("token", cfg.QoEIngestKey)
	q := "?from=2026-11-01&to=2026-12-01"
	for _, r := range reports {
		s.want(s.call("GET", "/api/v1/admin/qoe"+r+q, admin, nil, nil), 200, "QoE report "+r)
		s.want(s.call("GET", "/api/v1/admin/qoe"+r+q, user, nil, nil), 403, "QoE report for a non-admin "+r)
	}
}
