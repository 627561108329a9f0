package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox"
)

// TestAuthorizationBetweenUsers: a meeting is its organizer's. Anyone else
// is told it does not exist, whatever they try, and it stays as it was.
func TestAuthorizationBetweenUsers(t *testing.T) {
	t.Parallel()
	s := startSuite(t, suiteOptions{})
	adeleTok, alexTok := s.token(adele), s.token(alex)
	ev := s.h.mailbox(adele)[0]
	m := s.createMeeting(adeleTok, meetingRequest(ev.ID), "shared-key")
	alexEv := s.h.mailbox(alex)[0]
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/meetings/" + m.ID, nil},
		{"PATCH", "/api/v1/meetings/" + m.ID, map[string]any{"options": map[string]any{"lobby": "everyone"}}},
		{"PATCH", "/api/v1/meetings/" + m.ID, map[string]any{"start": "2030-01-01T10:00:00Z", "end": "2030-01-01T11:00:00Z"}},
		{"PUT", "/api/v1/meetings/" + m.ID + "/calendar", nil},
		{"PUT", "/api/v1/meetings/" + m.ID + "/calendar", map[string]any{"eventId": alexEv.ID}},
		{"DELETE", "/api/v1/meetings/" + m.ID, nil},
		{"DELETE", "/api/v1/meetings/" + m.ID + "?cancelEvent=true&comment=gone", nil},
		{"GET", "/api/v1/meetings/" + m.ID + "/ics", nil},
	} {
		var e apiError
		if resp := s.call(tt.method, tt.path, alexTok, tt.body, &e); resp.StatusCode != 404 || e.Error.Code != "not_found" {
			t.Errorf("%s %s by another user: %d %+v, want 404 not_found", tt.method, tt.path, resp.StatusCode, e)
		}
	}
	var got meetingBody
	if resp := s.call("GET", "/api/v1/meetings/"+m.ID, adeleTok, nil, &got); resp.StatusCode != 200 || got.EventID != ev.ID || got.ConferenceID != m.ConferenceID {
		t.Fatalf("the organizer's meeting after the attempts: %d %+v", resp.StatusCode, got)
	}
	item := s.h.event(adele, ev.ID)
	if n := blocks(item.Body.Content, typeOf(item)); n != 1 {
		t.Fatalf("the organizer's item has %d join blocks after the attempts", n)
	}
	if other := s.h.event(alex, alexEv.ID); blocks(other.Body.Content, typeOf(other)) != 0 {
		t.Fatal("another user wrote the organizer's meeting into their own item")
	}
	// The same Idempotency-Key from another user is another meeting.
	if theirs := s.createMeeting(alexTok, meetingRequest(""), "shared-key"); theirs.ID == m.ID || theirs.ConferenceID == m.ConferenceID {
		t.Fatalf("another user's Idempotency-Key returned the organizer's meeting %s", m.ID)
	}
	// Nor does their list show it.
	var list struct {
		Value []struct {
			ID string `json:"id"`
		} `json:"value"`
	}
	from, to := time.Now().UTC().Format(time.RFC3339), time.Now().Add(60*24*time.Hour).UTC().Format(time.RFC3339)
	s.call("GET", "/api/v1/meetings?start="+from+"&end="+to, alexTok, nil, &list)
	for _, l := range list.Value {
		if l.ID == m.ID {
			t.Fatal("another user's list holds the organizer's meeting")
		}
	}
}

// TestAdminRoutesRefuseNonAdmins walks every registered route under the
// admin API and page: a signed-in user without the WebScheduler.Admin role
// gets 403, with a bearer token or a web session alike.
func TestAdminRoutesRefuseNonAdmins(t *testing.T) {
	t.Parallel()
	s := startSuite(t, suiteOptions{})
	tok := s.token(alex)
	browser := s.webSignIn(alex)
	param := regexp.MustCompile(`:[A-Za-z]+|\*`)
	seen := map[string]bool{}
	for _, r := range s.h.in.server.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/admin") || r.Method == "HEAD" || r.Method == "OPTIONS" || r.Method == "TRACE" || r.Method == "CONNECT" {
			continue
		}
		path := param.ReplaceAllString(r.Path, "x")
		if seen[r.Method+path] || strings.HasSuffix(path, "/ingest") || strings.HasSuffix(path, "/notifications") {
			continue // ingestion and Graph's notifications carry their own keys
		}
		seen[r.Method+path] = true
		var e apiError
		body := map[string]any{}
		if resp := s.call(r.Method, path, tok, body, &e); resp.StatusCode != 403 {
			t.Errorf("%s %s with a non-admin token: %d %+v, want 403", r.Method, path, resp.StatusCode, e)
		}
		var raw json.RawMessage
		resp := s.send(browser, r.Method, path, bytes.NewReader([]byte("{}")),
			map[string]string{"Content-Type": "application/json", "Origin": s.h.base}, &raw)
		if resp.StatusCode != 403 {
			t.Errorf("%s %s with a non-admin web session: %d, want 403", r.Method, path, resp.StatusCode)
		}
	}
	if len(seen) < 5 {
		t.Fatalf("only %d admin routes found: %v", len(seen), seen)
	}
	t.Logf("%d admin routes refused a non-admin", len(seen))
}

// TestJitsiDirectoryListsNothing: the directory answers exact lookups of
// one conference ID or room; nothing lists, searches or enumerates.
func TestJitsiDirectoryListsNothing(t *testing.T) {
	t.Parallel()
	s := startSuite(t, suiteOptions{})
	tok := s.token(adele)
	var ids []string
	for range 3 {
		ids = append(ids, s.createMeeting(tok, meetingRequest(""), "").ConferenceID)
	}
	var byID struct {
		Conference string `json:"conference"`
	}
	s.call("GET", "/jitsi/conferenceMapper?id="+ids[0], "", nil, &byID)
	room := byID.Conference
	if room == "" {
		t.Fatalf("conference %s does not map", ids[0])
	}
	for _, q := range []string{
		"/jitsi/conferenceMapper", "/jitsi/conferenceMapper?id=", "/jitsi/conferenceMapper?id=*",
		"/jitsi/conferenceMapper?id=" + ids[0][:3], "/jitsi/conferenceMapper?id=" + ids[0][:3] + "%25",
		"/jitsi/conferenceMapper?conference=*", "/jitsi/conferenceMapper?conference=" + url.QueryEscape(room[:len(room)-2]),
		"/jitsi/conferenceMapper?conference=%25", "/jitsi/conferenceMapper?id=" + ids[0] + "&id=" + ids[1],
		"/jitsi/", "/jitsi/conferences", "/jitsi/conferenceMapper/list", "/jitsi/phoneNumberList?conference=*",
	} {
		var raw json.RawMessage
		resp := s.send(s.client, "GET", q, nil, nil, &raw)
		for _, id := range ids {
			if bytes.Contains(raw, []byte(id)) {
				t.Errorf("GET %s (%d) reveals conference %s: %s", q, resp.StatusCode, id, raw)
			}
		}
		if bytes.Contains(raw, []byte(room)) {
			t.Errorf("GET %s (%d) reveals room %s", q, resp.StatusCode, room)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		if resp := s.call(method, "/jitsi/conferenceMapper?id="+ids[0], "", nil, nil); resp.StatusCode < 400 {
			t.Errorf("%s on the directory: %d", method, resp.StatusCode)
		}
	}
}

// TestRateLimitPerAddressBehindProxies: behind a trusted reverse proxy the
// client named in X-Forwarded-For is counted, not the proxy; addresses
// left of the first untrusted hop, or a header from an untrusted peer,
// change nothing.
func TestRateLimitPerAddressBehindProxies(t *testing.T) {
	t.Parallel()
	pages := func(h *harness, xff string, n int) (served int) {
		t.Helper()
		for range n {
			req := mustRequest(t, "GET", h.base+"/help", nil, nil)
			if xff != "" {
				req.Header.Set("X-Forwarded-For", xff)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				served++
			}
		}
		return served
	}
	proxied := startSandbox(t, map[string]string{"WEBSCHEDULER_RATE_LIMIT_IP": "3", "WEBSCHEDULER_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}, "")
	if got := pages(proxied, "198.51.100.7", 5); got != 3 {
		t.Fatalf("client behind the proxy: %d of 5 pages served, want 3", got)
	}
	if got := pages(proxied, "198.51.100.8, 10.1.2.3", 3); got != 3 {
		t.Fatalf("another client behind two proxies: %d of 3 pages served, want 3", got)
	}
	if got := pages(proxied, "203.0.113.99, 198.51.100.7", 1); got != 0 {
		t.Fatal("a forged address left of the client's let a limited client through")
	}

	direct := startSandbox(t, map[string]string{"WEBSCHEDULER_RATE_LIMIT_IP": "3"}, "")
	if got := pages(direct, "198.51.100.1", 2) + pages(direct, "198.51.100.2", 2); got != 3 {
		t.Fatalf("without trusted proxies: %d of 4 pages served, want 3 (the header is ignored)", got)
	}
}

// TestRateLimitsHoldAcrossReplicas: two replicas share the counters in
// Redis; a user over their limit, and an address over its limit, get 429
// rate_limited with Retry-After on either replica.
func TestRateLimitsHoldAcrossReplicas(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	prefix := randomPrefix()
	redisClient(t, redisURL, prefix)
	env := map[string]string{
		"WEBSCHEDULER_REDIS_URL": redisURL, "WEBSCHEDULER_ENCRYPTION_KEY": "CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=",
		"WEBSCHEDULER_RATE_LIMIT_USER": "6", "WEBSCHEDULER_RATE_LIMIT_IP": "10",
	}
	// One tenant for both, as in production: a token works on either.
	sb, err := sandbox.Start(sandbox.Options{PublicURL: "http://127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	hooks := testHooks{redisPrefix: prefix, sandbox: sb}
	replicas := []*harness{startSandboxWith(t, copyEnv(env), hooks), startSandboxWith(t, copyEnv(env), hooks)}
	tok := replicas[0].token(alex)

	limited := func(h *harness, path, token string) bool {
		t.Helper()
		req := mustRequest(t, "GET", h.base+path, nil, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 429 {
			return false
		}
		var e apiError
		_ = json.NewDecoder(resp.Body).Decode(&e)
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if e.Error.Code != "rate_limited" || err != nil || ra < 1 || ra > 60 {
			t.Fatalf("429 with %+v, Retry-After %q", e, resp.Header.Get("Retry-After"))
		}
		return true
	}
	// Per user: 6 calls a minute, spread over both replicas.
	for i := range 6 {
		if limited(replicas[i%2], "/api/v1/settings/addin", tok) {
			t.Fatalf("call %d of 6 was limited", i+1)
		}
	}
	if !limited(replicas[1], "/api/v1/settings/addin", tok) || !limited(replicas[0], "/api/v1/me", tok) {
		t.Fatal("the 7th call was not limited")
	}
	if limited(replicas[0], "/api/v1/settings/addin", replicas[0].token(adele)) {
		t.Fatal("one user's limit held another user back")
	}

	// Per address: pages and refused tokens count; probes and the add-in's
	// files do not (they were just fetched by the token calls above).
	for range 20 {
		for _, p := range []string{"/healthz", "/readyz", "/addin/taskpane.html"} {
			if limited(replicas[0], p, "") {
				t.Fatalf("%s counts against the address limit", p)
			}
		}
	}
	n := 0
	for ; n < 12 && !limited(replicas[n%2], "/help", ""); n++ {
	}
	// The sandbox token endpoint is a page too: the tokens above used 2.
	if n < 5 || n > 10 {
		t.Fatalf("the address was limited after %d pages, want after at most 10 requests", n)
	}
	if !limited(replicas[0], "/api/v1/me", "forged.token.value") {
		t.Fatal("a refused token from a limited address was not limited")
	}
}

// TestCSRFOnCookieSessions: every state-changing request made with the web
// page's session cookie needs the page's anti-forgery token and its own
// origin; a bearer token needs neither (no browser sends one by itself).
func TestCSRFOnCookieSessions(t *testing.T) {
	t.Parallel()
	s := startSuite(t, suiteOptions{})
	b := s.webSignIn(adele)
	csrf := s.csrfOf(b, "/meetings/new")
	start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Hour)
	form := url.Values{
		"subject": {"CSRF probe"}, "start": {start.Format("2006-01-02T15:04")}, "end": {start.Add(time.Hour).Format("2006-01-02T15:04")},
		"tz": {"UTC"}, "lobby": {"company"}, "presenters": {"everyone"},
	}
	post := func(path string, v url.Values, origin string) int {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		if origin != "" {
			h["Origin"] = origin
		}
		var raw json.RawMessage
		return s.send(b, "POST", path, strings.NewReader(v.Encode()), h, &raw).StatusCode
	}
	with := func(extra map[string]string) url.Values {
		v := url.Values{}
		for k, vs := range form {
			v[k] = vs
		}
		for k, x := range extra {
			v.Set(k, x)
		}
		return v
	}
	for _, tt := range []struct {
		name   string
		v      url.Values
		origin string
	}{
		{"no token", form, s.h.base},
		{"a wrong token", with(map[string]string{"csrf": "forged"}), s.h.base},
		{"another origin", with(map[string]string{"csrf": csrf}), "https://evil.example"},
		{"no origin at all", with(map[string]string{"csrf": csrf}), ""},
	} {
		if got := post("/meetings", tt.v, tt.origin); got != 403 {
			t.Errorf("creating with %s: %d, want 403", tt.name, got)
		}
	}
	if got := post("/signout", url.Values{}, s.h.base); got != 403 {
		t.Errorf("signing out without a token: %d, want 403", got)
	}
	// The admin API with the page's cookie: the token travels in a header.
	var raw json.RawMessage
	resp := s.send(b, "PUT", "/api/v1/admin/settings/policy", strings.NewReader(`{"autoAddToNewMeetings":true}`),
		map[string]string{"Content-Type": "application/json", "Origin": s.h.base}, &raw)
	if resp.StatusCode != 403 {
		t.Errorf("admin change with the cookie but no anti-forgery header: %d, want 403", resp.StatusCode)
	}
	// Nothing was created by the refused requests.
	if got := post("/meetings", with(map[string]string{"csrf": csrf}), s.h.base); got != 200 {
		t.Fatalf("the same form with its token: %d", got)
	}
	n := 0
	for _, ev := range s.h.mailbox(adele) {
		if ev.Subject == "CSRF probe" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d items named CSRF probe, want the one made with the token", n)
	}
}

// TestRequestLimits: bodies are bounded everywhere and the server never
// waits on a client for ever.
func TestRequestLimits(t *testing.T) {
	t.Parallel()
	s := startSuite(t, suiteOptions{})
	tok := s.token(adele)
	var e apiError
	big := map[string]any{"subject": strings.Repeat("x", 65<<10)}
	if resp := s.call("POST", "/api/v1/meetings", tok, big, &e); resp.StatusCode != 413 || e.Error.Code != "request_too_large" {
		t.Errorf("a 65 KB API body: %d %+v", resp.StatusCode, e)
	}
	// Past the server's limits the request is refused: 413 or 431, or the
	// connection is closed before the body is read.
	for name, req := range map[string]*http.Request{
		"a 5 MB body":     mustRequest(t, "POST", s.h.base+"/help", bytes.NewReader(bytes.Repeat([]byte("x"), 5<<20)), nil),
		"64 KB of header": mustRequest(t, "GET", s.h.base+"/help", nil, map[string]string{"X-Padding": strings.Repeat("x", 64<<10)}),
	} {
		if resp, err := s.client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 400 {
				t.Errorf("%s: %d, want refused", name, resp.StatusCode)
			}
		}
	}
	cfg := s.h.in.server.App().Config()
	if cfg.ReadTimeout <= 0 || cfg.WriteTimeout <= 0 || cfg.IdleTimeout <= 0 || cfg.BodyLimit <= 0 || cfg.BodyLimit > 4<<20 {
		t.Errorf("server limits: read %v, write %v, idle %v, body %d", cfg.ReadTimeout, cfg.WriteTimeout, cfg.IdleTimeout, cfg.BodyLimit)
	}
	var bad apiError
	if resp := s.callWith("POST", "/api/v1/meetings", tok, nil, &bad, map[string]string{"Content-Type": "text/plain"}); resp.StatusCode != 400 {
		t.Errorf("a body that is not JSON: %d %+v", resp.StatusCode, bad)
	}
}

func mustRequest(t *testing.T, method, target string, body io.Reader, headers map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return req
}
