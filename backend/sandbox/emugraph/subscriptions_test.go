package emugraph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

// webhook is a subscriber's notification endpoint over TLS, as Graph
// requires, answering the validation handshake as told.
type webhook struct {
	ts       *httptest.Server
	mu       sync.Mutex
	validate func(token string) (status int, contentType, body string)
	got      []map[string]any // notification items received
	tokens   []string
}

func newWebhook(t *testing.T) *webhook {
	t.Helper()
	wh := &webhook{validate: func(token string) (int, string, string) { return 200, "text/plain", token }}
	wh.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		wh.mu.Lock()
		defer wh.mu.Unlock()
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			wh.tokens = append(wh.tokens, tok)
			status, ct, body := wh.validate(tok)
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
		var batch struct{ Value []map[string]any }
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		wh.got = append(wh.got, batch.Value...)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(wh.ts.Close)
	return wh
}

func (wh *webhook) received() []map[string]any {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return append([]map[string]any(nil), wh.got...)
}

// newSubscriptionEnv is an emulator whose notifications reach wh.
func newSubscriptionEnv(t *testing.T, wh *webhook, now func() time.Time) *env {
	t.Helper()
	s, err := emugraph.New(emugraph.Options{Users: testUsers(), Authenticate: stubAuth, NotificationClient: wh.ts.Client(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/graph/", http.StripPrefix("/sandbox/graph", s.Handler()))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return &env{t: t, srv: s, ts: ts, base: ts.URL + "/sandbox/graph/v1.0"}
}

func subscriptionBody(notificationURL string, expires time.Time) map[string]any {
	return map[string]any{
		"changeType":               "created",
		"notificationUrl":          notificationURL,
		"lifecycleNotificationUrl": notificationURL,
		"resource":                 "/communications/callRecords",
		"expirationDateTime":       expires.UTC().Format(time.RFC3339),
		"clientState":              "secretClientState",
	}
}

func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	wh := newWebhook(t)
	e := newSubscriptionEnv(t, wh, nil)
	hook := wh.ts.URL + "/api/v1/admin/qoe/teams/notifications"

	created := e.call(http.MethodPost, "/subscriptions", callRecordsApp, subscriptionBody(hook, time.Now().Add(time.Hour))).must(t, http.StatusCreated).json
	id, _ := created["id"].(string)
	if id == "" || created["clientState"] != "secretClientState" || created["resource"] != "/communications/callRecords" {
		t.Fatalf("created: %v", created)
	}
	if len(wh.tokens) != 2 || !strings.HasPrefix(wh.tokens[0], "Validation: ") {
		t.Errorf("validation requests (notification and lifecycle URLs): %q", wh.tokens)
	}
	if subs := e.srv.Subscriptions(); len(subs) != 1 || subs[0].ID != id {
		t.Errorf("Subscriptions() = %+v", subs)
	}

	recID, err := e.srv.AddCallRecord(context.Background(), readFixture(t, "callrecord.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := wh.received()
	if len(got) != 1 || got[0]["clientState"] != "secretClientState" || got[0]["changeType"] != "created" ||
		got[0]["resource"] != "communications/callRecords/"+recID || at(got[0], "resourceData.id") != recID || got[0]["subscriptionId"] != id {
		t.Fatalf("notification: %v", got)
	}

	later := time.Now().Add(70 * time.Hour).UTC().Truncate(time.Second)
	renewed := e.call(http.MethodPatch, "/subscriptions/"+id, callRecordsApp, map[string]any{"expirationDateTime": later.Format(time.RFC3339)}).must(t, http.StatusOK).json
	if renewed["expirationDateTime"] != later.Format("2006-01-02T15:04:05.0000000Z") {
		t.Errorf("renewed expiration %v, want %v", renewed["expirationDateTime"], later)
	}
	e.call(http.MethodGet, "/subscriptions/"+id, callRecordsApp, nil).must(t, http.StatusOK)
	e.call(http.MethodDelete, "/subscriptions/"+id, callRecordsApp, nil).must(t, http.StatusNoContent)
	if r := e.call(http.MethodGet, "/subscriptions/"+id, callRecordsApp, nil); r.status != 404 || r.errorCode() != "ResourceNotFound" {
		t.Errorf("GET after DELETE: %d %s", r.status, r.errorCode())
	}
	if r := e.call(http.MethodPatch, "/subscriptions/"+id, callRecordsApp, map[string]any{"expirationDateTime": later.Format(time.RFC3339)}); r.status != 404 {
		t.Errorf("renewal after DELETE: %d", r.status)
	}
	if _, err := e.srv.AddCallRecord(context.Background(), readFixture(t, "callrecord.json")); err != nil || len(wh.received()) != 1 {
		t.Errorf("a deleted subscription was notified (%v, %d notifications)", err, len(wh.received()))
	}
}

func TestSubscriptionRefusals(t *testing.T) {
	t.Parallel()
	wh := newWebhook(t)
	e := newSubscriptionEnv(t, wh, nil)
	hook := wh.ts.URL + "/hook"
	soon := time.Now().Add(time.Hour)
	with := func(k string, v any) map[string]any {
		b := subscriptionBody(hook, soon)
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	for _, c := range []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
	}{
		{"no role", appOnly("User.Read.All"), subscriptionBody(hook, soon), 403, "Forbidden"},
		{"delegated", delegated(adeleID, "CallRecords.Read.All"), subscriptionBody(hook, soon), 403, "Forbidden"},
		{"other resource", callRecordsApp, with("resource", "me/events"), 400, "InvalidRequest"},
		{"updated is not supported", callRecordsApp, with("changeType", "created,updated"), 400, "InvalidRequest"},
		{"plain http", callRecordsApp, with("notificationUrl", strings.Replace(hook, "https", "http", 1)), 400, "InvalidRequest"},
		{"past expiry", callRecordsApp, with("expirationDateTime", time.Now().Add(-time.Minute).Format(time.RFC3339)), 400, "InvalidRequest"},
		{"beyond 4230 minutes", callRecordsApp, with("expirationDateTime", time.Now().Add(4231*time.Minute).Format(time.RFC3339)), 400, "InvalidRequest"},
		{"long clientState", callRecordsApp, with("clientState", strings.Repeat("x", 129)), 400, "InvalidRequest"},
		{"missing notificationUrl", callRecordsApp, with("notificationUrl", nil), 400, "InvalidRequest"},
		{"unknown property", callRecordsApp, with("color", "blue"), 400, "BadRequest"},
	} {
		if r := e.call(http.MethodPost, "/subscriptions", c.token, c.body); r.status != c.status || r.errorCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s: %s", c.name, r.status, r.errorCode(), c.status, c.code, r.raw)
		}
	}
	for _, c := range []struct {
		name     string
		validate func(string) (int, string, string)
	}{
		{"wrong token", func(string) (int, string, string) { return 200, "text/plain", "something else" }},
		{"error status", func(tok string) (int, string, string) { return 500, "text/plain", tok }},
		{"JSON instead of text", func(tok string) (int, string, string) { return 200, "application/json", `"` + tok + `"` }},
	} {
		wh.mu.Lock()
		wh.validate = c.validate
		wh.mu.Unlock()
		if r := e.call(http.MethodPost, "/subscriptions", callRecordsApp, subscriptionBody(hook, soon)); r.status != 400 || r.errorCode() != "ValidationError" {
			t.Errorf("validation answered with %s: %d %s", c.name, r.status, r.errorCode())
		}
	}
	if n := len(e.srv.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions made by refused requests", n)
	}
}

// TestSubscriptionExpiry: an expired subscription is gone, and Graph's own
// removal sends the subscriptionRemoved lifecycle event.
func TestSubscriptionExpiry(t *testing.T) {
	t.Parallel()
	wh := newWebhook(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newSubscriptionEnv(t, wh, clock)
	hook := wh.ts.URL + "/hook"
	first := e.call(http.MethodPost, "/subscriptions", callRecordsApp, subscriptionBody(hook, now.Add(time.Hour))).must(t, http.StatusCreated).json
	second := e.call(http.MethodPost, "/subscriptions", callRecordsApp, subscriptionBody(hook, now.Add(3*time.Hour))).must(t, http.StatusCreated).json

	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if r := e.call(http.MethodGet, "/subscriptions/"+first["id"].(string), callRecordsApp, nil); r.status != 404 {
		t.Errorf("expired subscription: %d", r.status)
	}
	if err := e.srv.RemoveSubscription(context.Background(), second["id"].(string)); err != nil {
		t.Fatal(err)
	}
	got := wh.received()
	if len(got) != 1 || got[0]["lifecycleEvent"] != "subscriptionRemoved" || got[0]["clientState"] != "secretClientState" {
		t.Errorf("lifecycle notification: %v", got)
	}
	if len(e.srv.Subscriptions()) != 0 {
		t.Error("subscriptions left")
	}
}
