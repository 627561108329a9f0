package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/oracle"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

const adele = "adele.vance@contoso.example"

// syncBuffer collects the service's log for inspection.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t    *testing.T
	in   *instance
	base string
	logs *syncBuffer
}

// startSandbox runs the real service in-process on a free port. With
// redisURL it keeps state in that Redis under a prefix of its own.
func startSandbox(t *testing.T, env map[string]string, redisPrefix string) *harness {
	t.Helper()
	return startSandboxWith(t, env, testHooks{redisPrefix: redisPrefix})
}

func startSandboxWith(t *testing.T, env map[string]string, hooks testHooks) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return launch(t, ln, "http", env, hooks)
}

// launch runs the real service in-process on ln, reached over scheme, and
// shuts it down when the test ends, failing the test if the emulated Graph
// ever answered outside Graph's schema.
func launch(t *testing.T, ln net.Listener, scheme string, env map[string]string, hooks testHooks) *harness {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	env["WEBSCHEDULER_ADDR"] = ln.Addr().String()
	env["WEBSCHEDULER_PUBLIC_URL"] = scheme + "://" + ln.Addr().String()
	env["WEBSCHEDULER_LOG_LEVEL"] = "debug" // the most the log can ever say
	cfg, err := loadConfig(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	hooks.listener = ln
	if d := oracle.Dir(); d == "" {
		t.Log("oracles absent: the emulated Graph does not validate against Graph's schema in this run")
	} else if hooks.sandbox == nil {
		if hooks.graphSpec, err = emugraph.LoadSpec(d + "/graph-openapi-subset.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	in, err := start(t.Context(), cfg, newLogger(logs, slog.LevelDebug), hooks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if errs := in.sandbox.Graph.ValidationErrors(); len(errs) > 0 {
			t.Errorf("the emulated Graph answered outside Graph's schema: %v", errs)
		}
	})
	return &harness{t: t, in: in, base: scheme + "://" + ln.Addr().String(), logs: logs}
}

func (h *harness) token(upn string) string {
	h.t.Helper()
	resp, err := http.PostForm(h.base+"/sandbox/token", url.Values{"user": {upn}})
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		h.t.Fatalf("sandbox token: status %d, %v", resp.StatusCode, err)
	}
	if body.TokenType != "Bearer" || body.ExpiresIn <= 0 {
		h.t.Fatalf("sandbox token response %+v", body)
	}
	return body.AccessToken
}

// do sends a request and decodes a JSON answer into out (when non-nil).
func (h *harness) do(method, path, token string, body any, out any) *http.Response {
	h.t.Helper()
	return h.doWith(method, path, token, body, out, nil)
}

// doRaw sends a raw JSON body.
func (h *harness) doRaw(method, path, token, raw string, out any) *http.Response {
	h.t.Helper()
	return h.send(method, path, token, strings.NewReader(raw), out, nil)
}

func (h *harness) doWith(method, path, token string, body any, out any, headers map[string]string) *http.Response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	return h.send(method, path, token, rd, out, headers)
}

func (h *harness) send(method, path, token string, rd io.Reader, out any, headers map[string]string) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.base+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: status %d, body %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type meBody struct {
	DisplayName       string `json:"displayName"`
	GivenName         string `json:"givenName"`
	Mail              string `json:"mail"`
	UserPrincipalName string `json:"userPrincipalName"`
	PrimarySMTP       string `json:"primarySmtpAddress"`
	SIPAddress        string `json:"sipAddress"`
	ProxyAddresses    []struct {
		Type    string `json:"type"`
		Primary bool   `json:"primary"`
		Address string `json:"address"`
	} `json:"proxyAddresses"`
}

func checkMe(t *testing.T, me meBody) {
	t.Helper()
	if me.DisplayName != "Adele Vance" || me.UserPrincipalName != adele || me.PrimarySMTP != "Adele.Vance@contoso.example" || me.SIPAddress != "adele.vance@contoso.example" {
		t.Fatalf("me = %+v", me)
	}
	types := map[string]bool{}
	for _, p := range me.ProxyAddresses {
		types[p.Type] = true
	}
	for _, want := range []string{"SMTP", "SIP", "X500", "X400", "EUM"} {
		if !types[want] {
			t.Errorf("proxy address type %s missing from %+v", want, me.ProxyAddresses)
		}
	}
}

func TestMeEndToEndInMemory(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	for i := 0; i < 2; i++ {
		var me meBody
		if resp := h.do("GET", "/api/v1/me", tok, nil, &me); resp.StatusCode != 200 {
			t.Fatalf("call %d: status %d", i, resp.StatusCode)
		}
		checkMe(t, me)
	}
	sb := h.in.sandbox
	if n := sb.Entra.Faults().Hits("token"); n != 1 {
		t.Errorf("on-behalf-of requests = %d, want 1 for two calls in one session", n)
	}
	if n := sb.Graph.Faults().Hits("me"); n != 1 {
		t.Errorf("Graph /me requests = %d, want 1 for two calls in one session", n)
	}
	// A second user gets their own session and token.
	var me meBody
	h.do("GET", "/api/v1/me", h.token("alex.wilber@contoso.example"), nil, &me)
	if me.UserPrincipalName != "alex.wilber@contoso.example" || me.SIPAddress != "alex.wilber@contoso.example" {
		t.Fatalf("alex = %+v", me)
	}
	for _, leak := range []string{tok, "Adele Vance", adele} {
		if strings.Contains(h.logs.String(), leak) {
			t.Errorf("log contains %q", leak[:min(len(leak), 20)])
		}
	}
}

func testRedisURL(t *testing.T) string {
	u := os.Getenv("WEBSCHEDULER_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("no Redis at %s (run `make test`, which starts one): %v", u, err)
	}
	return u
}

// redisClient is a raw client for inspecting what the service stored; its
// keys under the test's prefix are removed at the end.
func redisClient(t *testing.T, url, prefix string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() {
		if keys, _ := c.Keys(context.Background(), prefix+"*").Result(); len(keys) > 0 {
			c.Del(context.Background(), keys...)
		}
		c.Close()
	})
	return c
}

func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "wstest-" + hex.EncodeToString(b) + ":ws:"
}

func TestMeEndToEndRedisStoresNothingReadable(t *testing.T) {
	t.Parallel()
	redisURL := testRedisURL(t)
	prefix := randomPrefix()
	h := startSandbox(t, map[string]string{
		"WEBSCHEDULER_REDIS_URL":      redisURL,
		"WEBSCHEDULER_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)),
	}, prefix)
	tok := h.token(adele)
	var me meBody
	h.do("GET", "/api/v1/me", tok, nil, &me)
	checkMe(t, me)

	opt, _ := redis.ParseURL(redisURL)
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx := context.Background()
	t.Cleanup(func() {
		keys, _ := rc.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rc.Del(ctx, keys...)
		}
	})
	keys, err := rc.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		kind := strings.SplitN(strings.TrimPrefix(k, prefix), ":", 2)[0]
		seen[kind] = true
		if kind != "sess" && kind != "tok" && kind != "rate" { // rate: the request counters
			t.Errorf("unexpected key %s", k)
		}
		if ttl, _ := rc.PTTL(ctx, k).Result(); ttl <= 0 {
			t.Errorf("key %s has no TTL", k)
		}
		val, _ := rc.Dump(ctx, k).Result()
		raw := k + val
		if v, err := rc.Get(ctx, k).Result(); err == nil {
			raw += v
		}
		for _, plain := range []string{"Adele", "adele", "Vance", "contoso", tok[:40], ".eyJ"} {
			if strings.Contains(raw, plain) {
				t.Errorf("key %s holds %q in plaintext", k, plain)
			}
		}
	}
	if !seen["sess"] || !seen["tok"] {
		t.Errorf("expected a session and a cached token, saw %v", keys)
	}

}

func TestErrorsUseTheEnvelope(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tests := []struct {
		path, token string
		status      int
		code        string
	}{
		{"/api/v1/me", "", 401, "token_missing"},
		{"/api/v1/me", "not-a-jwt", 401, "token_malformed"},
		{"/api/v1/nope", h.token(adele), 404, "not_found"},
		{"/nope", "", 404, "not_found"},
	}
	for _, tt := range tests {
		var e apiError
		resp := h.do("GET", tt.path, tt.token, nil, &e)
		if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
			t.Errorf("GET %s: %d %+v, want %d %s", tt.path, resp.StatusCode, e, tt.status, tt.code)
		}
	}
}

func TestGraphAndEntraFaults(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	g := h.in.sandbox.Graph.Faults()
	e := h.in.sandbox.Entra.Faults()

	// One 429 with a short Retry-After: the SDK waits it out and succeeds.
	g.Set("me", fault.Fault{Status: 429, RetryAfter: time.Second, Times: 1})
	var me meBody
	if resp := h.do("GET", "/api/v1/me", h.token(adele), nil, &me); resp.StatusCode != 200 {
		t.Fatalf("after one 429: status %d", resp.StatusCode)
	}
	checkMe(t, me)

	// A long Retry-After is handed to the client instead of waited out.
	g.Set("me", fault.Fault{Status: 429, RetryAfter: 120 * time.Second})
	var apiErr apiError
	resp := h.do("GET", "/api/v1/me", h.token("alex.wilber@contoso.example"), nil, &apiErr)
	if resp.StatusCode != 503 || apiErr.Error.Code != "graph_throttled" || resp.Header.Get("Retry-After") != "120" {
		t.Fatalf("long throttling: %d %+v Retry-After %q", resp.StatusCode, apiErr, resp.Header.Get("Retry-After"))
	}
	g.Reset()

	// Graph keeps failing with 500: a clear code, no Go error text.
	h2 := startSandbox(t, nil, "")
	h2.in.sandbox.Graph.Faults().Set("me", fault.Fault{Status: 500})
	apiErr = apiError{}
	resp = h2.do("GET", "/api/v1/me", h2.token(adele), nil, &apiErr)
	if resp.StatusCode != 502 || apiErr.Error.Code != "graph_unavailable" {
		t.Fatalf("graph 500: %d %+v", resp.StatusCode, apiErr)
	}

	// On-behalf-of refused by Entra ID.
	h3 := startSandbox(t, nil, "")
	h3.in.sandbox.Entra.Faults().Set("token", fault.Fault{Status: 400})
	apiErr = apiError{}
	resp = h3.do("GET", "/api/v1/me", h3.token(adele), nil, &apiErr)
	if resp.StatusCode != 401 || apiErr.Error.Code != "token_exchange_failed" {
		t.Fatalf("OBO refused: %d %+v", resp.StatusCode, apiErr)
	}
	_ = e
	for _, hh := range []*harness{h, h2, h3} {
		if strings.Contains(hh.logs.String(), "eyJ") {
			t.Error("a token reached the log")
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	for _, p := range []string{"/healthz", "/readyz"} {
		if resp := h.do("GET", p, "", nil, nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	h.do("GET", "/api/v1/me", h.token(adele), nil, nil)
	resp, err := http.Get(h.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`webscheduler_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1`, `webscheduler_graph_requests_total{status="200"}`, "webscheduler_graph_throttled_total", "webscheduler_http_request_duration_seconds", "webscheduler_graph_request_duration_seconds_sum"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	css, err := http.Get(h.base + "/static/site.css")
	if err != nil {
		t.Fatal(err)
	}
	css.Body.Close()
	if css.StatusCode != 200 || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
	}
	for path, want := range map[string]string{
		"/":             "Web Scheduler",
		"/dialin":       "49 30 23125 142",
		"/help":         "Add online meeting",
		"/join/1234567": "1234567",
	} {
		resp, err := http.Get(h.base + path)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(page), want) || !strings.Contains(string(page), "Sandbox mode") || resp.Header.Get("X-WebScheduler-Sandbox") != "1" {
			t.Errorf("GET %s: %d, banner or %q missing", path, resp.StatusCode, want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("GET %s: CSP %q", path, csp)
		}
		// The policy allows no inline style or script: pages must not need it.
		if strings.Contains(string(page), "<style") || strings.Contains(string(page), "style=") || regexp.MustCompile(`<script(?:\s[^>]*)?>[^<]`).Match(page) {
			t.Errorf("GET %s has inline style or script, which the CSP blocks", path)
		}
	}
}

func TestReadyzFailsWithoutRedis(t *testing.T) {
	t.Parallel()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "redis://" + ln.Addr().String() + "/0"
	ln.Close()
	h := startSandbox(t, map[string]string{
		"WEBSCHEDULER_REDIS_URL":      dead,
		"WEBSCHEDULER_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)),
	}, randomPrefix())
	var e apiError
	if resp := h.do("GET", "/readyz", "", nil, &e); resp.StatusCode != 503 || e.Error.Code != "store_unavailable" {
		t.Fatalf("readyz without redis: %d %+v", resp.StatusCode, e)
	}
	if resp := h.do("GET", "/healthz", "", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
	e = apiError{}
	if resp := h.do("GET", "/api/v1/me", h.token(adele), nil, &e); resp.StatusCode != 503 || e.Error.Code != "store_unavailable" {
		t.Fatalf("me without redis: %d %+v", resp.StatusCode, e)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	tok := h.token(adele)
	h.in.sandbox.Graph.Faults().Set("me", fault.Fault{Delay: 700 * time.Millisecond})
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", h.base+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(300 * time.Millisecond) // the request is waiting on Graph
	if err := h.in.server.App().ShutdownWithTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := <-done; got != 200 {
		t.Fatalf("in-flight request got %d during shutdown, want 200", got)
	}
}
