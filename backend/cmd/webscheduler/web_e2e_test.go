package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
)

const alexUPN = "alex.wilber@contoso.example"

// browser is a person at the Web Scheduler page: a cookie jar, redirects
// followed by hand so every Set-Cookie on the way can be checked.
type browser struct {
	h       *harness
	client  *http.Client
	cookies []*http.Cookie // every cookie any response set
	csrf    string
}

func newBrowser(h *harness) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// send makes one request and follows redirects (GET) to the end.
func (b *browser) send(method, target string, form url.Values, headers map[string]string) (*http.Response, string) {
	b.h.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = b.h.base + target
	}
	for range 10 {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, target, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			b.h.t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.cookies = append(b.cookies, resp.Cookies()...)
		loc := resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || loc == "" {
			page := string(data)
			if m := csrfField.FindStringSubmatch(page); m != nil {
				b.csrf = m[1]
			}
			return resp, page
		}
		next, _ := resp.Request.URL.Parse(loc)
		target, method, form, headers = next.String(), http.MethodGet, nil, nil
	}
	b.h.t.Fatalf("too many redirects from %s", target)
	return nil, ""
}

func (b *browser) get(path string) (*http.Response, string) {
	b.h.t.Helper()
	return b.send(http.MethodGet, path, nil, nil)
}

// post submits a form as a browser on the page would: the session's CSRF
// token and the page's own origin.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.h.t.Helper()
	form.Set("csrf", b.csrf)
	return b.send(http.MethodPost, path, form, map[string]string{"Origin": b.h.base})
}

var (
	csrfField   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	signInForm  = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	meetingLink = regexp.MustCompile(`/meetings/([A-Za-z0-9_-]{22})`)
)

// signIn goes through the emulated Entra ID's sign-in page and picks upn.
func (b *browser) signIn(upn string) string {
	b.h.t.Helper()
	resp, page := b.get("/signin?next=/meetings")
	m := signInForm.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(page, upn) {
		b.h.t.Fatalf("no sign-in page listing %s: %d\n%s", upn, resp.StatusCode, page)
	}
	form := url.Values{"emuentra_user": {upn}}
	for _, f := range hiddenField.FindAllStringSubmatch(page, -1) {
		form.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	action, _ := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	resp, page = b.send(http.MethodPost, action.String(), form, nil)
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/meetings" || b.csrf == "" {
		b.h.t.Fatalf("sign-in ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	return page
}

// meetingForm is a complete New meeting form.
func meetingForm(subject, zone, start, end string, attendees ...string) url.Values {
	return url.Values{
		"subject": {subject}, "tz": {zone}, "start": {start}, "end": {end}, "attendees": {strings.Join(attendees, "\n")},
		"lobby": {"company"}, "presenters": {"everyone"}, "idem": {fmt.Sprint(time.Now().UnixNano())},
	}
}

// create submits the New meeting form and returns the new meeting's ID.
func (b *browser) create(form url.Values) (string, string) {
	b.h.t.Helper()
	resp, page := b.post("/meetings", form)
	m := meetingLink.FindStringSubmatch(resp.Request.URL.Path)
	if resp.StatusCode != 200 || m == nil {
		b.h.t.Fatalf("create ended at %s with %d:\n%s", resp.Request.URL, resp.StatusCode, page)
	}
	return m[1], page
}

func TestWebSignInCookiesAndSignOut(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	b := newBrowser(h)
	page := b.signIn(adele)
	if !strings.Contains(page, `<html lang="en"`) || !strings.Contains(page, "Adele Vance") {
		t.Errorf("My meetings page:\n%s", page)
	}
	names := map[string]bool{}
	for _, c := range b.cookies {
		names[c.Name] = true
		// Session cookies only (DESIGN §4), HttpOnly, SameSite=Lax; plain HTTP in the sandbox: not Secure.
		if !c.Expires.IsZero() || c.MaxAge != 0 || strings.Contains(strings.ToLower(c.Raw), "max-age") || strings.Contains(strings.ToLower(c.Raw), "expires") {
			t.Errorf("cookie %s is persistent: %s", c.Name, c.Raw)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure {
			t.Errorf("cookie %s attributes: %s", c.Name, c.Raw)
		}
	}
	if !names["ws_session"] || !names["ws_web_signin"] {
		t.Errorf("cookies set: %v", names)
	}
	// The session cookie is opaque and random; the store keeps an HMAC of it.
	var session string
	for _, c := range b.cookies {
		if c.Name == "ws_session" && c.Value != "" {
			session = c.Value
		}
	}
	if len(session) < 40 || strings.Contains(session, ".") {
		t.Errorf("session cookie %q", session)
	}
	if _, err := h.in.stores.Session(t.Context(), session, time.Hour); err == nil {
		t.Error("the session is stored under the cookie's value")
	}

	// A second person at another browser gets their own session, in German.
	other := newBrowser(h)
	if page := other.signIn(alexUPN); !strings.Contains(page, `<html lang="de"`) || !strings.Contains(page, "Meine Besprechungen") {
		t.Errorf("Alex's page is not German:\n%s", page)
	}

	// Sign-out needs the CSRF token too, then the session is gone.
	if resp, _ := b.send(http.MethodPost, "/signout", url.Values{}, map[string]string{"Origin": h.base}); resp.StatusCode != 403 {
		t.Errorf("sign-out without token: %d", resp.StatusCode)
	}
	if resp, page := b.post("/signout", url.Values{}); resp.Request.URL.Path != "/signout" || !strings.Contains(page, "You have signed out") {
		t.Errorf("sign-out ended at %s:\n%s", resp.Request.URL, page)
	}
	req, _ := http.NewRequest("GET", h.base+"/meetings", nil)
	req.AddCookie(&http.Cookie{Name: "ws_session", Value: session})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/signin?") {
		t.Errorf("after sign-out the old cookie still works: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// A callback without its flow cookie (a replay, another window) signs no one in.
	resp, page = newBrowser(h).get("/auth/callback?code=stolen&state=x")
	if resp.StatusCode != 401 || !strings.Contains(page, "sso_failed") {
		t.Errorf("replayed callback: %d\n%s", resp.StatusCode, page)
	}
}

func TestWebCSRFIsRejected(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	b := newBrowser(h)
	b.signIn(adele)
	before := len(h.mailbox(adele))
	form := meetingForm("Forged", "UTC", "2027-05-03T09:00", "2027-05-03T10:00")
	for name, tc := range map[string]struct {
		token   string
		headers map[string]string
	}{
		"no token":         {"", map[string]string{"Origin": h.base}},
		"wrong token":      {b.csrf + "x", map[string]string{"Origin": h.base}},
		"other origin":     {b.csrf, map[string]string{"Origin": "https://evil.example"}},
		"null origin":      {b.csrf, map[string]string{"Origin": "null"}},
		"other referer":    {b.csrf, map[string]string{"Referer": "https://evil.example/meetings"}},
		"no origin at all": {b.csrf, nil},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("csrf", tc.token)
		if resp, page := b.send(http.MethodPost, "/meetings", f, tc.headers); resp.StatusCode != 403 || !strings.Contains(page, "forbidden") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, page)
		}
	}
	if n := len(h.mailbox(adele)); n != before {
		t.Fatalf("a forged form created %d items", n-before)
	}
	// The same form from the page itself, by Referer alone, goes through.
	form.Set("csrf", b.csrf)
	if resp, _ := b.send(http.MethodPost, "/meetings", form, map[string]string{"Referer": h.base + "/meetings/new"}); resp.StatusCode != 200 || !meetingLink.MatchString(resp.Request.URL.Path) {
		t.Fatalf("genuine form: %d at %s", resp.StatusCode, resp.Request.URL)
	}
}

type icsEvent struct {
	cal *ics.Calendar
	ev  *ics.VEvent
}

// ics exports a meeting; query may name a time zone (?tz=).
func (b *browser) ics(id, query string) icsEvent {
	b.h.t.Helper()
	resp, body := b.get("/api/v1/meetings/" + id + "/ics" + query)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") || resp.Header.Get("Cache-Control") != "no-store" {
		b.h.t.Fatalf("ics: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	cal, err := ics.ParseCalendar(strings.NewReader(body))
	if err != nil || len(cal.Events()) != 1 {
		b.h.t.Fatalf("ics does not parse (%v):\n%s", err, body)
	}
	return icsEvent{cal, cal.Events()[0]}
}

func (e icsEvent) prop(name ics.ComponentProperty) *ics.IANAProperty { return e.ev.GetProperty(name) }

func TestWebMeetingLifecycleEscapedAndExported(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	b := newBrowser(h)
	b.signIn(adele)

	_, page := b.get("/meetings/new")
	// Adele's mailbox is on Pacific Standard Time: the form starts there.
	if !strings.Contains(page, "<option selected>America/Los_Angeles</option>") || !strings.Contains(page, `name="idem"`) {
		t.Fatalf("new meeting form:\n%s", page)
	}
	subject := `<script>alert("x")</script> & Co`
	id, page := b.create(meetingForm(subject, "America/Los_Angeles", "2027-06-01T09:00", "2027-06-01T10:00", alexUPN, "guest@fabrikam.example"))
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co") {
		t.Fatalf("details page does not escape the subject:\n%s", page)
	}
	for _, want := range []string{"The meeting was created", `id="conference-id"`, "data-copy=\"join-url\"", "/api/v1/meetings/" + id + "/ics", alexUPN, "guest@fabrikam.example", "1 Jun 2027, 09:00–10:00"} {
		if !strings.Contains(page, want) {
			t.Errorf("details page lacks %q", want)
		}
	}
	var ev graphEvent
	for _, e := range h.mailbox(adele) {
		if e.Subject == subject {
			ev = e
		}
	}
	if ev.ID == "" || blocks(ev.Body.Content, typeOf(ev)) != 1 {
		t.Fatalf("the calendar item: %+v", ev)
	}
	_, list := b.get("/meetings?from=2027-05-30&to=2027-06-02")
	if !strings.Contains(list, "/meetings/"+id) || strings.Contains(list, "<script>alert") {
		t.Fatalf("My meetings:\n%s", list)
	}

	// Edit the time; the calendar item moves with it.
	_, edit := b.get("/meetings/" + id + "/edit")
	if !strings.Contains(edit, `value="2027-06-01T09:00"`) {
		t.Fatalf("edit form:\n%s", edit)
	}
	f := meetingForm("", "America/Los_Angeles", "2027-06-01T11:30", "2027-06-01T12:15")
	f.Set("lobby", "everyone")
	if resp, page := b.post("/meetings/"+id, f); resp.Request.URL.Path != "/meetings/"+id || !strings.Contains(page, "11:30–12:15") || !strings.Contains(page, "Everyone") {
		t.Fatalf("edit ended at %s:\n%s", resp.Request.URL, page)
	}

	// Export: it parses back with the same library, in Adele's zone.
	e := b.ics(id, "")
	if p := e.prop(ics.ComponentPropertyDtStart); p.ICalParameters["TZID"][0] != "America/Los_Angeles" || p.Value != "20270601T113000" {
		t.Errorf("DTSTART %+v", p)
	}
	if s, _ := e.ev.GetStartAt(); !s.Equal(time.Date(2027, 6, 1, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("start %v", s)
	}
	if got := ics.FromText(e.prop(ics.ComponentPropertySummary).Value); got != subject {
		t.Errorf("SUMMARY %q", got)
	}
	var m meetingBody
	h.do("GET", "/api/v1/meetings/"+id, h.token(adele), nil, &m)
	if e.prop(ics.ComponentPropertyUrl).Value != m.JoinURL || !strings.Contains(ics.FromText(e.prop(ics.ComponentPropertyDescription).Value), m.ConferenceID) {
		t.Errorf("URL/DESCRIPTION do not carry the join information")
	}
	if org := e.prop(ics.ComponentPropertyOrganizer); !strings.EqualFold(org.Value, "mailto:"+adele) {
		t.Errorf("ORGANIZER %+v", org)
	}
	if n := len(e.ev.Attendees()); n != 2 || len(e.cal.Timezones()) != 1 {
		t.Errorf("%d attendees, %d VTIMEZONEs", n, len(e.cal.Timezones()))
	}
	// The API takes the add-in's bearer token as well, and nobody else.
	resp := h.do("GET", "/api/v1/meetings/"+id+"/ics?tz=Tokyo%20Standard%20Time", h.token(adele), nil, nil)
	if resp.StatusCode != 200 {
		t.Errorf("ics with a bearer token: %d", resp.StatusCode)
	}
	var apiErr apiError
	if resp := h.do("GET", "/api/v1/meetings/"+id+"/ics", "", nil, &apiErr); resp.StatusCode != 401 || apiErr.Error.Code != "token_missing" {
		t.Errorf("anonymous ics: %d %+v", resp.StatusCode, apiErr)
	}
	if resp := h.do("GET", "/api/v1/meetings/"+id+"/ics", h.token(alexUPN), nil, &apiErr); resp.StatusCode != 404 {
		t.Errorf("someone else's ics: %d", resp.StatusCode)
	}

	// Cancel: the item is gone from the calendar, the meeting from the list.
	if _, page := b.get("/meetings/" + id + "/delete"); !strings.Contains(page, "Message to attendees") {
		t.Fatalf("cancel page:\n%s", page)
	}
	resp, page = b.post("/meetings/"+id+"/delete", url.Values{"comment": {"Sorry, moved to next week."}})
	if resp.Request.URL.Path != "/meetings" || !strings.Contains(page, "The meeting was cancelled.") {
		t.Fatalf("cancel ended at %s:\n%s", resp.Request.URL, page)
	}
	for _, e := range h.mailbox(adele) {
		if e.ID == ev.ID {
			t.Fatal("the cancelled item is still in the mailbox")
		}
	}
	if _, list := b.get("/meetings?from=2027-05-30&to=2027-06-02"); strings.Contains(list, id) {
		t.Fatal("the cancelled meeting is still listed")
	}
	if resp, _ := b.get("/meetings/" + id); resp.StatusCode != 404 {
		t.Errorf("the cancelled meeting's page: %d", resp.StatusCode)
	}
}

func TestWebListIsPaged(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	day := time.Date(2027, 9, 1, 8, 0, 0, 0, time.UTC)
	for i := range 21 {
		start := day.Add(time.Duration(i) * time.Hour)
		body := map[string]any{"subject": fmt.Sprintf("Sync %02d", i), "start": start, "end": start.Add(30 * time.Minute), "createEvent": true}
		if _, resp := h.create(tok, body, ""); resp.StatusCode != 201 {
			t.Fatalf("create %d: %d", i, resp.StatusCode)
		}
	}
	b := newBrowser(h)
	b.signIn(adele)
	_, page := b.get("/meetings?from=2027-08-31&to=2027-09-02")
	if n := strings.Count(page, "<tr><td><time"); n != 20 || !strings.Contains(page, "Page 1 of 2") || !strings.Contains(page, `rel="next"`) {
		t.Fatalf("page 1 has %d rows:\n%s", n, page)
	}
	_, page = b.get("/meetings?from=2027-08-31&to=2027-09-02&page=2")
	if n := strings.Count(page, "<tr><td><time"); n != 1 || !strings.Contains(page, "Sync 20") || !strings.Contains(page, `rel="prev"`) {
		t.Fatalf("page 2 has %d rows:\n%s", n, page)
	}
	if resp, _ := b.get("/meetings?from=2027-08-31&to=2027-09-02&page=3"); resp.StatusCode != 404 {
		t.Errorf("page 3: %d", resp.StatusCode)
	}
	if resp, page := b.get("/meetings?from=junk&to=2027-09-02"); resp.StatusCode != 400 || !strings.Contains(page, "Give the period as two dates.") {
		t.Errorf("bad date: %d", resp.StatusCode)
	}
}

// Adele is a delegate of Alex: she schedules in his calendar and he is the
// organizer. Alex is no delegate of Adele's: he is refused, and nothing is
// left behind.
func TestWebDelegates(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	adeleB, alexB := newBrowser(h), newBrowser(h)
	adeleB.signIn(adele)
	alexB.signIn(alexUPN)

	f := meetingForm("Board prep for Alex", "Europe/Berlin", "2027-07-05T10:00", "2027-07-05T11:00", "guest@fabrikam.example")
	f.Set("mailbox", alexUPN)
	id, page := adeleB.create(f)
	if !strings.Contains(page, "Alex Wilber") {
		t.Errorf("the organizer is not Alex:\n%s", page)
	}
	var item map[string]any
	for _, raw := range mustEvents(t, h, alexUPN) {
		if raw["subject"] == "Board prep for Alex" {
			item = raw
		}
	}
	if item == nil || !strings.Contains(fmt.Sprint(item["organizer"]), alexUPN) {
		t.Fatalf("Alex's mailbox: %v", item)
	}
	body, _ := item["body"].(map[string]any)
	if content, _ := body["content"].(string); !strings.Contains(content, "Alex Wilber") {
		t.Errorf("the join information does not name Alex as organizer")
	}
	// Alex manages it from his own list; Adele through his calendar.
	if _, list := alexB.get("/meetings?from=2027-07-01&to=2027-07-10"); !strings.Contains(list, "/meetings/"+id) {
		t.Errorf("Alex does not see the meeting as his:\n%s", list)
	}
	if _, list := adeleB.get("/meetings?from=2027-07-01&to=2027-07-10&mailbox=" + url.QueryEscape(alexUPN)); !strings.Contains(list, "/meetings/"+id) {
		t.Errorf("Adele does not see it in Alex's calendar:\n%s", list)
	}
	if e := adeleB.ics(id, ""); !strings.EqualFold(e.prop(ics.ComponentPropertyOrganizer).Value, "mailto:"+alexUPN) {
		t.Errorf("ics ORGANIZER %v", e.prop(ics.ComponentPropertyOrganizer))
	}

	// Refused: Alex has no access to Adele's calendar.
	before := len(h.mailbox(adele))
	f = meetingForm("Not allowed", "UTC", "2027-07-06T10:00", "2027-07-06T11:00")
	f.Set("mailbox", adele)
	resp, page := alexB.post("/meetings", f)
	if resp.StatusCode != 403 || !strings.Contains(page, "forbidden") || !strings.Contains(page, `value="Not allowed"`) {
		t.Fatalf("refused delegate: %d\n%s", resp.StatusCode, page)
	}
	if len(h.mailbox(adele)) != before {
		t.Error("a refused delegate left an item behind")
	}
	var e apiError
	r := h.do("POST", "/api/v1/meetings", h.token(alexUPN), map[string]any{
		"subject": "x", "start": "2027-07-06T10:00:00Z", "end": "2027-07-06T11:00:00Z", "createEvent": true, "mailbox": adele,
	}, &e)
	if r.StatusCode != 403 || e.Error.Code != "forbidden" {
		t.Errorf("API refused delegate: %d %+v", r.StatusCode, e)
	}
	if resp, _ := alexB.get("/meetings?from=2027-07-01&to=2027-07-10&mailbox=" + url.QueryEscape(adele)); resp.StatusCode != 403 {
		t.Errorf("listing Adele's calendar as Alex: %d", resp.StatusCode)
	}
}

func mustEvents(t *testing.T, h *harness, upn string) []map[string]any {
	t.Helper()
	raws, err := h.in.sandbox.Graph.Events(upn)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range raws {
		var m map[string]any
		if err := json.NewDecoder(bytes.NewReader(r)).Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// DST edges through the page: a meeting across the spring-forward hour in
// Europe and North America lasts an hour, a time the clocks skip is
// refused, half-hour and DST-free zones keep their offsets, and the export
// says the same.
func TestWebTimeZones(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	b := newBrowser(h)
	b.signIn(alexUPN)
	if _, page := b.get("/meetings/new"); !strings.Contains(page, "<option selected>Europe/Berlin</option>") {
		t.Fatal("Alex's W. Europe Standard Time is not Europe/Berlin")
	}
	for _, tc := range []struct {
		zone, start, end string
		utcStart, utcEnd time.Time
		dtstart          string
	}{
		{"Europe/Berlin", "2027-03-28T01:30", "2027-03-28T03:30", time.Date(2027, 3, 28, 0, 30, 0, 0, time.UTC), time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC), "20270328T013000"},
		{"America/New_York", "2027-03-14T01:30", "2027-03-14T03:30", time.Date(2027, 3, 14, 6, 30, 0, 0, time.UTC), time.Date(2027, 3, 14, 7, 30, 0, 0, time.UTC), "20270314T013000"},
		{"Asia/Calcutta", "2027-03-28T09:00", "2027-03-28T09:45", time.Date(2027, 3, 28, 3, 30, 0, 0, time.UTC), time.Date(2027, 3, 28, 4, 15, 0, 0, time.UTC), "20270328T090000"},
		{"America/St_Johns", "2027-03-14T01:30", "2027-03-14T03:30", time.Date(2027, 3, 14, 5, 0, 0, 0, time.UTC), time.Date(2027, 3, 14, 6, 0, 0, 0, time.UTC), "20270314T013000"},
		{"Asia/Tokyo", "2027-03-28T09:00", "2027-03-28T10:00", time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC), "20270328T090000"},
	} {
		id, _ := b.create(meetingForm("DST "+tc.zone, tc.zone, tc.start, tc.end))
		var m meetingBody
		var times struct{ Start, End time.Time }
		h.do("GET", "/api/v1/meetings/"+id, h.token(alexUPN), nil, &m)
		h.do("GET", "/api/v1/meetings/"+id, h.token(alexUPN), nil, &times)
		if !times.Start.Equal(tc.utcStart) || !times.End.Equal(tc.utcEnd) {
			t.Errorf("%s: stored %v–%v, want %v–%v", tc.zone, times.Start, times.End, tc.utcStart, tc.utcEnd)
		}
		h.event(alexUPN, m.EventID) // in Alex's calendar
		e := b.ics(id, "?tz="+url.QueryEscape(tc.zone))
		if p := e.prop(ics.ComponentPropertyDtStart); p.Value != tc.dtstart || p.ICalParameters["TZID"][0] != tc.zone {
			t.Errorf("%s: DTSTART %+v", tc.zone, p)
		}
		s, _ := e.ev.GetStartAt()
		en, _ := e.ev.GetEndAt()
		if !s.Equal(tc.utcStart) || !en.Equal(tc.utcEnd) {
			t.Errorf("%s: ics reads back %v–%v", tc.zone, s, en)
		}
	}
	// 02:30 on the day the clocks go forward does not exist.
	resp, page := b.post("/meetings", meetingForm("Gap", "Europe/Berlin", "2027-03-28T02:30", "2027-03-28T03:30"))
	if resp.StatusCode != 400 || !strings.Contains(page, "Die Uhren überspringen diese Stunde") {
		t.Errorf("skipped hour: %d\n%s", resp.StatusCode, page)
	}
}
