package qoe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

// appCredential hands out the emulator's stub app-only token.
type appCredential struct{ calls atomic.Int32 }

func (c *appCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	if !slices.Equal(o.Scopes, []string{"https://graph.microsoft.com/.default"}) {
		return azcore.AccessToken{}, fmt.Errorf("unexpected scopes %v", o.Scopes)
	}
	return azcore.AccessToken{Token: "app:CallRecords.Read.All", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// stubGraphAuth accepts "Bearer app:<roles>" as an app-only token.
func stubGraphAuth(r *http.Request) (emugraph.Caller, error) {
	roles, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer app:")
	if !ok {
		return emugraph.Caller{}, errors.New("no app token")
	}
	return emugraph.Caller{TenantID: "0f1e2d3c-4b5a-4c6d-8e9f-a0b1c2d3e4f5", Roles: strings.Fields(roles)}, nil
}

// teamsEnv is the emulated Graph, and the service's handler served over
// TLS below the mount point the service uses, as Graph requires https.
type teamsEnv struct {
	graph *emugraph.Server
	svc   *Service
	hook  *httptest.Server
}

const mount = "/api/v1/admin/qoe"

func newTeamsEnv(t *testing.T, lifetime time.Duration) *teamsEnv {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := handler.Load()
		if h == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		http.StripPrefix(mount, *h).ServeHTTP(w, r)
	}))
	t.Cleanup(hook.Close)
	graph, err := emugraph.New(emugraph.Options{Authenticate: stubGraphAuth, NotificationClient: hook.Client()})
	if err != nil {
		t.Fatal(err)
	}
	gts := httptest.NewServer(graph.Handler())
	t.Cleanup(gts.Close)
	svc := openService(t, Options{Teams: &TeamsOptions{
		Graph:           NewGraphClient(gts.URL+"/v1.0", &appCredential{}, gts.Client()),
		NotificationURL: hook.URL + mount + TeamsPath,
		ClientState:     "test-client-state",
		Lifetime:        lifetime,
		RetryDelay:      50 * time.Millisecond,
	}})
	h := svc.Handler()
	handler.Store(&h)
	e := &teamsEnv{graph: graph, svc: svc, hook: hook}
	eventually(t, 10*time.Second, func() error {
		if n := len(graph.Subscriptions()); n != 1 {
			return fmt.Errorf("%d subscriptions in the emulated Graph, want 1", n)
		}
		return nil
	})
	return e
}

// TestTeamsEndToEnd: the service subscribes (passing Graph's validation
// handshake), a call record is published, Graph notifies, the service
// fetches the record with sessions and segments and stores its streams,
// and the reports show them.
func TestTeamsEndToEnd(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, 0)
	sub := e.graph.Subscriptions()[0]
	if sub.ClientState != "test-client-state" || sub.Resource != "communications/callRecords" || sub.ChangeType != "created" ||
		sub.LifecycleNotificationURL != sub.NotificationURL || time.Until(sub.Expiration) < 70*time.Hour {
		t.Errorf("subscription: %+v", sub)
	}
	record, err := os.ReadFile("../sandbox/emugraph/testdata/callrecord.json")
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.graph.AddCallRecord(context.Background(), record)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if calls, streams := countCalls(t, e.svc); calls != 1 || streams != 3 {
			return fmt.Errorf("stored %d calls, %d streams; want 1, 3", calls, streams)
		}
		return nil
	})
	h := e.svc.Handler()
	_, _, body := get(t, h, "/reports/users/alex.wilber@contoso.example/calls?from=2024-05-01&to=2024-05-31")
	var got struct{ Calls []UserCall }
	if err := json.Unmarshal(body, &got); err != nil || len(got.Calls) != 1 {
		t.Fatalf("%v %s", err, body)
	}
	c := got.Calls[0]
	if c.ExternalID != id || c.Source != SourceTeams || c.Poor == nil || !*c.Poor {
		t.Errorf("call: %+v", c)
	}
	var lines []string
	for _, st := range c.Streams {
		lines = append(lines, fmt.Sprintf("%s %s %s %s %s %s loss=%s jitter=%s rtt=%s poor=%s %v", st.Modality, str(st.Direction), str(st.UserID),
			str(st.Device), str(st.Subnet), str(st.Codec), fmtFloat(st.PacketLoss), fmtFloat(st.JitterMS), fmtFloat(st.RoundTripMS), boolText(st.Poor), st.PoorReasons))
	}
	want := []string{
		"audio callerToCallee alex.wilber@contoso.example MacBook Pro Microphone 192.168.44.0/24 satin loss=12 jitter=45 rtt=180 poor=true [packet_loss jitter degradation concealed_samples]",
		"audio calleeToCaller adele.vance@contoso.example Jabra Evolve2 65 10.1.2.0/24 satin loss=0.2 jitter=4 rtt=30 poor=false []",
		"video callerToCallee alex.wilber@contoso.example teams macOS 192.168.44.0/24 h264 loss=1 jitter=20 rtt=40 poor= []",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("streams:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// The same record published again (a new version) replaces, not adds.
	if _, err := e.graph.AddCallRecord(context.Background(), record); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if calls, streams := countCalls(t, e.svc); calls != 1 || streams != 3 {
		t.Errorf("after a second version: %d calls, %d streams", calls, streams)
	}

	// Closing the service deletes its subscription.
	e.svc.Close()
	if n := len(e.graph.Subscriptions()); n != 0 {
		t.Errorf("%d subscriptions left after Close", n)
	}
}

// TestTeamsResubscribe: when Graph removes the subscription (lifecycle
// event subscriptionRemoved) the service makes a new one; it also renews
// before expiry.
func TestTeamsResubscribe(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, 3*time.Second)
	first := e.graph.Subscriptions()[0]
	eventually(t, 10*time.Second, func() error {
		if subs := e.graph.Subscriptions(); len(subs) != 1 || !subs[0].Expiration.After(first.Expiration) {
			return fmt.Errorf("not renewed: %+v", subs)
		}
		return nil
	})
	if err := e.graph.RemoveSubscription(context.Background(), first.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if subs := e.graph.Subscriptions(); len(subs) != 1 || subs[0].ID == first.ID {
			return fmt.Errorf("not subscribed again: %+v", subs)
		}
		return nil
	})
}

// TestTeamsWebhook checks the notification endpoint on its own.
func TestTeamsWebhook(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, 0)
	send := func(query, body string) (int, string, string) {
		res, err := e.hook.Client().Post(e.hook.URL+mount+TeamsPath+query, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	token := "Validation: Testing client application reachability for subscription Request-Id: 1 <&>"
	if status, ct, body := send("?validationToken="+url.QueryEscape(token), ""); status != 200 || ct != "text/plain; charset=utf-8" || body != token {
		t.Errorf("validation: %d %s %q", status, ct, body)
	}
	notification := func(clientState string) string {
		return `{"value":[{"subscriptionId":"s","clientState":"` + clientState + `","changeType":"created",` +
			`"resource":"communications/callRecords/forged","resourceData":{"id":"forged"}}]}`
	}
	if status, _, _ := send("", notification("wrong")); status != 202 {
		t.Errorf("wrong clientState: %d, want 202 (acknowledged, dropped)", status)
	}
	if status, _, _ := send("", "not json"); status != 400 {
		t.Errorf("bad JSON: %d", status)
	}
	// A notification for a record Graph does not have: fetched, retried, dropped.
	if status, _, _ := send("", notification("test-client-state")); status != 202 {
		t.Errorf("notification: %d", status)
	}
	time.Sleep(500 * time.Millisecond)
	if calls, _ := countCalls(t, e.svc); calls != 0 {
		t.Errorf("%d calls stored from forged or missing records", calls)
	}
}

func TestDurationMS(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"PT0.015S": "15", "PT1M2.5S": "62500", "P1DT1H": "90000000", "PT": "", "": "", "15ms": ""} {
		if got := fmtFloat(durationMS(in)); got != want {
			t.Errorf("durationMS(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTeamsOptionsChecked(t *testing.T) {
	t.Parallel()
	url := testDatabase(t)
	g := NewGraphClient("https://graph.example/v1.0", &appCredential{}, nil)
	for _, o := range []TeamsOptions{{}, {Graph: g, NotificationURL: "http://plain.example/hook"},
		{Graph: g, NotificationURL: "https://x.example/hook", ClientState: strings.Repeat("s", 129)}} {
		if s, err := Open(context.Background(), url, Options{Teams: &o}); err == nil {
			s.Close()
			t.Errorf("Open accepted Teams options %+v", o)
		}
	}
}
