package main

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/oracle"
	"github.com/webscheduler/webscheduler/backend/redisstore"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

const adeleOID = "0d2d8a14-6c1e-4b3f-9a57-1e8c4b2d7f01"

// admKey is the encryption key of the admin tests' Redis instances.
var admKey = base64.StdEncoding.EncodeToString([]byte("admin-tests-key-32-bytes-long!!!"))

// writeCounter counts, per conference ID, the bodies clients wrote into
// the emulated mailboxes: a meeting written twice shows as 2.
type writeCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func newWriteCounter() *writeCounter { return &writeCounter{n: map[string]int{}} }

func (w *writeCounter) rewrite(body string) string {
	if id, ok := joininfo.ConferenceIDOf(body, joininfo.BodyHTML); ok {
		w.mu.Lock()
		w.n[id]++
		w.mu.Unlock()
	}
	return emugraph.ExchangeHTML(body)
}

func (w *writeCounter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n = map[string]int{}
}

func (w *writeCounter) get(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n[id]
}

// organizers are extra sandbox users who own the refresh tests' meetings.
func organizers(n int) []sandbox.User {
	langs := []string{"en-US", "de-DE", "fr-FR", "ja-JP"}
	var out []sandbox.User
	for i := range n {
		upn := fmt.Sprintf("organizer%d@contoso.example", i+1)
		out = append(out, sandbox.User{
			OID: fmt.Sprintf("8a1f0c2e-0000-4000-8000-%012d", i+1), UPN: upn, Name: fmt.Sprintf("Organizer %d", i+1),
			Given: "Organizer", Surname: fmt.Sprint(i + 1), Lang: langs[i%len(langs)], TimeZone: "UTC", Proxies: []string{"SMTP:" + upn},
		})
	}
	return out
}

// newTenant starts a sandbox whose Graph counts body writes; instances
// started with startOn share it.
func newTenant(t *testing.T, public string, users []sandbox.User, counter *writeCounter) *sandbox.Sandbox {
	t.Helper()
	opts := sandbox.Options{PublicURL: public, ExtraUsers: users, Graph: emugraph.Options{RewriteHTML: counter.rewrite}}
	if d := oracle.Dir(); d != "" {
		spec, err := emugraph.LoadSpec(d + "/graph-openapi-subset.yaml")
		if err != nil {
			t.Fatal(err)
		}
		opts.Graph.Spec = spec
	}
	sb, err := sandbox.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return sb
}

// startOn runs an instance on ln with hooks (its sandbox included).
func startOn(t *testing.T, ln net.Listener, env map[string]string, hooks testHooks) *harness {
	t.Helper()
	return launch(t, ln, "http", env, hooks)
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// redisEnv is the environment of an instance on the test Redis, with a
// cleanup of prefix's keys.
func redisEnv(t *testing.T, prefix string) map[string]string {
	t.Helper()
	u := testRedisURL(t)
	opt, _ := redis.ParseURL(u)
	rc := redis.NewClient(opt)
	t.Cleanup(func() {
		ctx := context.Background()
		var cursor uint64
		for {
			keys, next, err := rc.Scan(ctx, cursor, prefix+"*", 500).Result()
			if err != nil {
				break
			}
			if len(keys) > 0 {
				rc.Del(ctx, keys...)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		rc.Close()
	})
	return map[string]string{"WEBSCHEDULER_REDIS_URL": u, "WEBSCHEDULER_ENCRYPTION_KEY": admKey}
}

type settingsBody struct {
	Version  int64          `json:"version"`
	Provider string         `json:"provider"`
	Settings map[string]any `json:"settings"`
	Tracking map[string]any `json:"tracking"`
}

// changeNumbers replaces the dial-in numbers through the admin API, so
// every existing meeting's join information is stale.
func (h *harness) changeNumbers(tok string) {
	h.t.Helper()
	var cur settingsBody
	h.do("GET", "/api/v1/admin/settings", tok, nil, &cur)
	s := cur.Settings
	s["dialIn"].(map[string]any)["numbers"] = []map[string]any{
		{"region": "United States, Seattle", "country": "US", "number": "+1 206-555-0177", "language": "en-US"},
		{"region": "Germany, Berlin", "country": "DE", "number": "+49 30 23125 177", "language": "de-DE"},
	}
	var after settingsBody
	resp := h.doWith("PUT", "/api/v1/admin/settings", tok, s, &after, map[string]string{"If-Match": fmt.Sprintf(`"%d"`, cur.Version)})
	if resp.StatusCode != 200 || after.Version != cur.Version+1 {
		h.t.Fatalf("changing the numbers: status %d, version %d", resp.StatusCode, after.Version)
	}
}

// newMeetings creates n meetings with calendar items for the user.
func (h *harness) newMeetings(upn string, n int) []meetingBody {
	h.t.Helper()
	tok := h.token(upn)
	var out []meetingBody
	for i := range n {
		start := time.Now().Add(time.Duration(48+i) * time.Hour).UTC().Truncate(time.Hour)
		m, resp := h.create(tok, map[string]any{
			"subject": fmt.Sprintf("Sync %d", i), "start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339),
			"timeZone": "UTC", "createEvent": true, "attendees": []string{"alex.wilber@contoso.example"},
		}, "")
		if resp.StatusCode != 201 || m.EventID == "" {
			h.t.Fatalf("creating a meeting for %s: status %d", upn, resp.StatusCode)
		}
		out = append(out, m)
	}
	return out
}

// waitJob polls a refresh job until it is done.
func (h *harness) waitJob(tok, id string) refresh.Progress {
	h.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		var p refresh.Progress
		if resp := h.do("GET", "/api/v1/admin/refresh/"+id, tok, nil, &p); resp.StatusCode != 200 {
			h.t.Fatalf("job %s: status %d", id, resp.StatusCode)
		}
		if p.Job.Status == "done" {
			return p
		}
		if p.Job.Status == "failed" || time.Now().After(deadline) {
			h.t.Fatalf("job %s: %+v", id, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) startJob(tok string, body map[string]any) string {
	h.t.Helper()
	var job refresh.Job
	if resp := h.do("POST", "/api/v1/admin/refresh", tok, body, &job); resp.StatusCode != 202 || job.ID == "" {
		h.t.Fatalf("starting a job: status %d", resp.StatusCode)
	}
	return job.ID
}

func (h *harness) report(tok, path string) [][]string {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		b, _ := io.ReadAll(resp.Body)
		h.t.Fatalf("report: status %d %s", resp.StatusCode, b)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		h.t.Fatal(err)
	}
	return rows
}

// checkRefreshed checks every meeting shows the new numbers in exactly one
// block and was written exactly once since counter.reset.
func (h *harness) checkRefreshed(upns []string, counter *writeCounter) int {
	h.t.Helper()
	n := 0
	for _, upn := range upns {
		for _, ev := range h.mailbox(upn) {
			id, ok := joininfo.ConferenceIDOf(ev.Body.Content, joininfo.BodyHTML)
			if !ok {
				continue
			}
			n++
			text := html.UnescapeString(ev.Body.Content)
			if !strings.Contains(text, "+1 206-555-0177") || strings.Contains(text, "+1 206-555-0142") || blocks(ev.Body.Content, joininfo.BodyHTML) != 1 {
				h.t.Errorf("%s: meeting %s not refreshed: %.200q", upn, id, ev.Body.Content)
			}
			if c := counter.get(id); c != 1 {
				h.t.Errorf("%s: meeting %s written %d times", upn, id, c)
			}
		}
	}
	return n
}

func TestAdminAPINeedsTheAdminRole(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	var e apiError
	if resp := h.do("GET", "/api/v1/admin/settings", h.token("alex.wilber@contoso.example"), nil, &e); resp.StatusCode != 403 || e.Error.Code != "admin_role_required" {
		t.Fatalf("non-admin: status %d %+v", resp.StatusCode, e)
	}
	if resp := h.do("POST", "/api/v1/admin/refresh", h.token("alex.wilber@contoso.example"), map[string]any{"dryRun": true}, &e); resp.StatusCode != 403 || e.Error.Code != "admin_role_required" {
		t.Fatalf("non-admin job: status %d %+v", resp.StatusCode, e)
	}
	if resp := h.do("GET", "/api/v1/admin/audit", "", nil, &e); resp.StatusCode != 401 || e.Error.Code != "token_missing" {
		t.Fatalf("anonymous: status %d %+v", resp.StatusCode, e)
	}
	var s settingsBody
	resp := h.do("GET", "/api/v1/admin/settings", h.token(adele), nil, &s)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"0"` || s.Provider != "template" {
		t.Fatalf("admin: status %d etag %q %+v", resp.StatusCode, resp.Header.Get("ETag"), s)
	}
	page, err := http.Get(h.base + "/admin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != 200 || !strings.Contains(string(b), `data-mode="token"`) || !strings.Contains(string(b), "/admin/ui/admin.js") {
		t.Fatalf("admin page: %d %s", page.StatusCode, b)
	}
	js, err := http.Get(h.base + "/admin/ui/admin.js")
	if err != nil || js.StatusCode != 200 {
		t.Fatalf("admin script: %v %v", js, err)
	}
	js.Body.Close()
}

func TestAdminSettingsTemplatesAndAudit(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	h := startSandbox(t, redisEnv(t, prefix), prefix)
	tok := h.token(adele)

	h.changeNumbers(tok)
	var cur settingsBody
	h.do("GET", "/api/v1/admin/settings", tok, nil, &cur)
	var e apiError
	if resp := h.doWith("PUT", "/api/v1/admin/settings", tok, cur.Settings, &e, map[string]string{"If-Match": `"0"`}); resp.StatusCode != 409 || e.Error.Code != "version_conflict" {
		t.Fatalf("stale edit: %d %+v", resp.StatusCode, e)
	}
	cur.Settings["provider"] = "teams"
	if resp := h.do("PUT", "/api/v1/admin/settings", tok, cur.Settings, &e); resp.StatusCode != 400 || e.Error.Code != "invalid_request" {
		t.Fatalf("provider change: %d %+v", resp.StatusCode, e)
	}
	cur.Settings["provider"] = "template"
	cur.Settings["template"].(map[string]any)["conferenceIdLength"] = 2
	if resp := h.do("PUT", "/api/v1/admin/settings", tok, cur.Settings, &e); resp.StatusCode != 400 || !strings.Contains(e.Error.Message, "conferenceIdLength") {
		t.Fatalf("invalid settings: %d %+v", resp.StatusCode, e)
	}

	// The policy and the dial-in page follow at once.
	var addin struct{ AutoAdd bool }
	h.do("GET", "/api/v1/settings/addin", tok, nil, &addin)
	if addin.AutoAdd {
		t.Fatal("auto-add on before the policy said so")
	}
	if resp := h.do("PUT", "/api/v1/admin/settings/policy", tok, map[string]any{"autoAddToNewMeetings": true}, nil); resp.StatusCode != 200 {
		t.Fatalf("policy: %d", resp.StatusCode)
	}
	h.do("GET", "/api/v1/settings/addin", tok, nil, &addin)
	if !addin.AutoAdd {
		t.Fatal("the add-in policy did not follow the admin")
	}
	page, _ := http.Get(h.base + "/dialin")
	b, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(html.UnescapeString(string(b)), "+1 206-555-0177") {
		t.Fatal("the dial-in page does not list the new number")
	}

	// Templates: preview, save, and new meetings use them.
	var tm struct {
		Version int64
		Builtin bool
		Locales map[string]map[string]string
	}
	h.do("GET", "/api/v1/admin/templates", tok, nil, &tm)
	if !tm.Builtin || tm.Locales["de"]["html"] == "" {
		t.Fatalf("templates = %+v", tm)
	}
	mine := map[string]any{
		"en": map[string]string{"html": `<p><a href="{{.JoinURL}}">Custom join link</a> {{.ConferenceID}}</p>{{range .DialIn}}<p>{{.Number}}</p>{{end}}`, "text": "Custom join link {{.JoinURL}}"},
		"de": tm.Locales["de"],
	}
	var pv struct{ HTML, Text string }
	if resp := h.do("POST", "/api/v1/admin/templates/preview", tok, map[string]any{"locale": "en-GB", "locales": mine}, &pv); resp.StatusCode != 200 || !strings.Contains(pv.HTML, "Custom join link") {
		t.Fatalf("preview: %d %+v", resp.StatusCode, pv)
	}
	if resp := h.do("POST", "/api/v1/admin/templates/preview", tok, map[string]any{"locale": "en", "locales": map[string]any{"de": tm.Locales["de"]}}, &e); resp.StatusCode != 400 {
		t.Fatalf("preview without en: %d", resp.StatusCode)
	}
	if resp := h.do("PUT", "/api/v1/admin/templates", tok, map[string]any{"locales": mine}, &tm); resp.StatusCode != 200 || tm.Builtin {
		t.Fatalf("saving templates: %d", resp.StatusCode)
	}
	m := h.newMeetings(adele, 1)[0]
	if !strings.Contains(m.JoinInfo.HTML, "Custom join link") || !strings.Contains(html.UnescapeString(m.JoinInfo.HTML), "+1 206-555-0177") {
		t.Fatalf("a new meeting does not use the admin's templates: %s", m.JoinInfo.HTML)
	}
	if resp := h.do("DELETE", "/api/v1/admin/templates", tok, nil, &tm); resp.StatusCode != 200 || !tm.Builtin {
		t.Fatalf("restoring built-in templates: %d", resp.StatusCode)
	}

	var audit struct {
		Entries []struct {
			Actor, Action string
			Version       int64
			Changes       []struct{ Field, Old, New string }
		}
	}
	h.do("GET", "/api/v1/admin/audit", tok, nil, &audit)
	actions := []string{}
	for _, a := range audit.Entries {
		if a.Actor != adeleOID {
			t.Errorf("audit actor %q", a.Actor)
		}
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "templates.update,templates.update,policy.update,settings.update" {
		t.Fatalf("audit actions = %v", actions)
	}
	raw, _ := json.Marshal(audit)
	for _, personal := range []string{"Adele", "adele", "Custom join link"} {
		if strings.Contains(string(raw), personal) {
			t.Errorf("the audit log holds %q", personal)
		}
	}

	opt, _ := redis.ParseURL(testRedisURL(t))
	rc := redis.NewClient(opt)
	defer rc.Close()
	if v, err := rc.HGet(t.Context(), prefix+"settings", "version").Int(); err != nil || v != 4 {
		t.Errorf("ws:settings version = %d, %v", v, err)
	}
	if ttl, _ := rc.PTTL(t.Context(), prefix+"audit").Result(); ttl <= 0 {
		t.Errorf("ws:audit has no retention (TTL %v)", ttl)
	}
}

func TestRefreshThroughTheAPI(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	counter := newWriteCounter()
	users := organizers(3)
	ln := listen(t)
	sb := newTenant(t, "http://"+ln.Addr().String(), users, counter)
	h := startOn(t, ln, redisEnv(t, prefix), testHooks{redisPrefix: prefix, sandbox: sb})
	tok := h.token(adele)
	upns := []string{adele}
	for _, u := range users {
		upns = append(upns, u.UPN)
		h.newMeetings(u.UPN, 6)
	}
	first := h.newMeetings(adele, 2)
	const total = 3*6 + 2

	// Right after creation every meeting is current, through Exchange's
	// rewriting of the bodies.
	p := h.waitJob(tok, h.startJob(tok, map[string]any{"dryRun": true}))
	if p.Counts[refresh.ActionCurrent] != total || p.Counts[refresh.ActionUpdate] != 0 {
		t.Fatalf("fresh meetings: %v", p.Counts)
	}

	// An organizer's own text around the block must survive.
	ev := h.event(adele, first[0].EventID)
	if err := sb.Graph.SetEventBody(adele, ev.ID, "html", "<p>Bring the Q3 numbers.</p>"+ev.Body.Content); err != nil {
		t.Fatal(err)
	}
	h.changeNumbers(tok)
	var e apiError
	if resp := h.do("POST", "/api/v1/admin/refresh", tok, map[string]any{"dryRun": false}, &e); resp.StatusCode != 400 {
		t.Fatalf("apply without a dry run: %d", resp.StatusCode)
	}
	dry := h.startJob(tok, map[string]any{"dryRun": true})
	p = h.waitJob(tok, dry)
	if p.Counts[refresh.ActionUpdate] != total || p.MailboxesTotal < 4 {
		t.Fatalf("dry run: %+v", p)
	}
	rows := h.report(tok, "/api/v1/admin/refresh/"+dry+"/report.csv?stale=true")
	if len(rows) != total+1 || rows[0][0] != "mailbox" {
		t.Fatalf("stale report: %d rows", len(rows))
	}
	for _, r := range rows[1:] {
		if r[5] != "would_update" || !strings.HasSuffix(r[0], "@contoso.example") || !strings.Contains(r[7], "dial-in numbers") {
			t.Fatalf("row %v", r)
		}
	}
	var stale struct {
		Stale    int64 `json:"stale"`
		UpToDate bool  `json:"upToDate"`
	}
	if h.do("GET", "/api/v1/admin/stale", tok, nil, &stale); stale.Stale != total || !stale.UpToDate {
		t.Fatalf("stale view: %+v", stale)
	}

	counter.reset()
	sb.Graph.Faults().Reset()
	p = h.waitJob(tok, h.startJob(tok, map[string]any{"dryRun": false, "after": dry}))
	if p.Counts[refresh.ActionUpdate] != total {
		t.Fatalf("apply: %v", p.Counts)
	}
	if n := h.checkRefreshed(upns, counter); n != total {
		t.Fatalf("%d meetings in the mailboxes, want %d", n, total)
	}
	if n := sb.Graph.Faults().Hits(emugraph.RouteEventsUpdate); n != total {
		t.Errorf("%d PATCHes for %d meetings", n, total)
	}
	if n := sb.Graph.Faults().Hits(emugraph.RouteBatch); n == 0 || n >= total {
		t.Errorf("%d batches for %d writes", n, total)
	}
	if got := h.event(adele, first[0].EventID).Body.Content; !strings.HasPrefix(got, "<p>Bring the Q3 numbers.</p>") && !strings.Contains(got, "Bring the Q3 numbers.") {
		t.Errorf("the organizer's text is gone: %.200q", got)
	}
	if h.do("GET", "/api/v1/admin/stale", tok, nil, &stale); stale.UpToDate {
		t.Error("the stale view claims the last dry run still describes the meetings after an apply")
	}
}

// killSwitch plays a process that dies: after the armed number of Graph
// requests, the response of the last one is lost, every later request and
// store write fails, and the run's context ends. Requests in flight finish
// at Graph (as they would: the server does not know the client died).
type killSwitch struct {
	next   http.RoundTripper
	mu     sync.Mutex
	left   int // requests until the kill; -1: never
	dead   bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (k *killSwitch) arm(n int, cancel context.CancelFunc) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.left, k.dead, k.cancel = n, false, cancel
}

func (k *killSwitch) killed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.dead
}

func (k *killSwitch) RoundTrip(r *http.Request) (*http.Response, error) {
	if k.killed() {
		return nil, fmt.Errorf("killed")
	}
	k.wg.Add(1)
	defer k.wg.Done()
	resp, err := k.next.RoundTrip(r.WithContext(context.WithoutCancel(r.Context())))
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.left > 0 {
		if k.left--; k.left == 0 {
			k.dead = true
			k.cancel()
		}
	}
	if k.dead {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("killed")
	}
	return resp, err
}

// deadStore fails every write once the process is dead.
type deadStore struct {
	adminStores
	k *killSwitch
}

func (d deadStore) Record(ctx context.Context, id, key string, row scheduler.RefreshRow, ttl time.Duration) (bool, error) {
	if d.k.killed() {
		return false, fmt.Errorf("killed")
	}
	return d.adminStores.Record(ctx, id, key, row, ttl)
}

func (d deadStore) FinishMailbox(ctx context.Context, id, mb string, ttl time.Duration) (int64, error) {
	if d.k.killed() {
		return 0, fmt.Errorf("killed")
	}
	return d.adminStores.FinishMailbox(ctx, id, mb, ttl)
}

func (d deadStore) UpdateJob(ctx context.Context, j scheduler.RefreshJob, ttl time.Duration) error {
	if d.k.killed() {
		return fmt.Errorf("killed")
	}
	return d.adminStores.UpdateJob(ctx, j, ttl)
}

func (d deadStore) ReleaseLease(ctx context.Context, id, name, owner string) error {
	if d.k.killed() {
		return fmt.Errorf("killed")
	}
	return d.adminStores.ReleaseLease(ctx, id, name, owner)
}

func (d deadStore) MarkIntent(ctx context.Context, id, key string, ttl time.Duration) error {
	if d.k.killed() {
		return fmt.Errorf("killed")
	}
	return d.adminStores.MarkIntent(ctx, id, key, ttl)
}

// A job killed again and again, at every stage (listing, scanning,
// mid-batch), is finished by the next start with every meeting written
// exactly once and none missed.
func TestRefreshKilledAndRestarted(t *testing.T) {
	t.Parallel()
	prefix := randomPrefix()
	counter := newWriteCounter()
	users := organizers(5)
	ln := listen(t)
	sb := newTenant(t, "http://"+ln.Addr().String(), users, counter)
	env := redisEnv(t, prefix)
	h := startOn(t, ln, env, testHooks{redisPrefix: prefix, sandbox: sb})
	var upns []string
	for _, u := range users {
		upns = append(upns, u.UPN)
		h.newMeetings(u.UPN, 30)
	}
	const total = 5 * 30
	h.changeNumbers(h.token(adele))

	// The job's keys get a prefix of their own, so the service's runner
	// does not help: this test alone decides when the worker dies.
	jobPrefix := randomPrefix()
	redisEnv(t, jobPrefix)
	client, err := redisstore.ParseURL(env["WEBSCHEDULER_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	jobs := redisstore.New(client, redisstore.Options{Prefix: jobPrefix})
	kill := &killSwitch{next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: sb.TLS.Roots}}}
	w := h.in.admin.wiring
	w.transport = kill
	tenant, err := w.tenantCalendars()
	if err != nil {
		t.Fatal(err)
	}
	eng := *h.in.admin.refresh
	eng.Graph, eng.Store, eng.LeaseTTL, eng.Poll = tenant, deadStore{adminStores: jobs, k: kill}, time.Second, 50*time.Millisecond
	job, err := eng.Create(t.Context(), refresh.Request{}, h.in.admin.settings.Current())
	if err != nil {
		t.Fatal(err)
	}
	counter.reset()
	sb.Graph.Faults().Reset()
	// Small pages make many requests; deaths come after 2 of them (while
	// listing), then while scanning, then between and inside batches.
	tenant.PageSize = 4
	deaths := 0
	for _, after := range []int{2, 7, 5, 9, 6, 11, 8, -1} {
		ctx, cancel := context.WithCancel(t.Context())
		kill.arm(after, cancel)
		err := eng.Run(ctx, job.ID)
		cancel()
		kill.wg.Wait()
		if err == nil {
			break
		}
		if after < 0 {
			t.Fatalf("the last run: %v", err)
		}
		deaths++
		pr, _ := eng.Progress(t.Context(), job.ID)
		t.Logf("death %d after %d requests: %d writes at Graph, %d meetings recorded", deaths, after,
			sb.Graph.Faults().Hits(emugraph.RouteEventsUpdate), pr.Meetings)
	}
	if deaths < 5 {
		t.Fatalf("the worker died only %d times", deaths)
	}
	p, err := eng.Progress(t.Context(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Job.Status != "done" || p.Counts[refresh.ActionUpdate] != total || p.Meetings != total {
		t.Fatalf("after the restarts: %+v", p)
	}
	if n := h.checkRefreshed(upns, counter); n != total {
		t.Fatalf("%d meetings, want %d", n, total)
	}
	if n := sb.Graph.Faults().Hits(emugraph.RouteEventsUpdate); n != total {
		t.Errorf("%d PATCHes reached Graph for %d meetings", n, total)
	}
}

var adminCSRF = regexp.MustCompile(`data-csrf="([^"]+)"`)

// The admin page works with the web sign-in's cookie: reads need only the
// cookie, changes also the page's anti-forgery token and origin, and a
// signed-in non-admin gets the page's refusal.
func TestAdminPageWithWebSession(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	b := newBrowser(h)
	b.signIn(adele)
	resp, page := b.get("/admin")
	m := adminCSRF.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil || !strings.Contains(page, `data-mode="session"`) {
		t.Fatalf("admin page: %d\n%s", resp.StatusCode, page)
	}
	call := func(method string, headers map[string]string) int {
		req, _ := http.NewRequest(method, h.base+"/api/v1/admin/settings/policy", strings.NewReader(`{"autoAddToNewMeetings":true}`))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := b.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if resp, _ := b.get("/api/v1/admin/settings"); resp.StatusCode != 200 {
		t.Fatalf("reading with the cookie: %d", resp.StatusCode)
	}
	if s := call("PUT", map[string]string{"Origin": h.base}); s != 403 {
		t.Fatalf("a change without the anti-forgery token: %d", s)
	}
	if s := call("PUT", map[string]string{"Origin": "https://evil.example", "X-CSRF-Token": m[1]}); s != 403 {
		t.Fatalf("a change from another origin: %d", s)
	}
	if s := call("PUT", map[string]string{"Origin": h.base, "X-CSRF-Token": m[1]}); s != 200 {
		t.Fatalf("a change from the page: %d", s)
	}

	other := newBrowser(h)
	other.signIn(alexUPN)
	if resp, page := other.get("/admin"); resp.StatusCode != 403 || !strings.Contains(page, "WebScheduler.Admin") {
		t.Fatalf("non-admin page: %d", resp.StatusCode)
	}
}
