package emugraph_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

const (
	adeleID = "5f6b3a2c-1d4e-4b8a-9c0d-0a1b2c3d4e5f"
	alexID  = "8e7d6c5b-4a39-4281-8f0e-1d2c3b4a5968"
	meganID = "1a2b3c4d-5e6f-4a8b-9c0d-e1f2a3b4c5d6"
	tenant  = "0f1e2d3c-4b5a-4c6d-8e9f-a0b1c2d3e4f5"
)

func testUsers() []emugraph.User {
	return []emugraph.User{
		{
			ID: adeleID, UPN: "adele.vance@contoso.example", DisplayName: "Adele Vance", GivenName: "Adele", Surname: "Vance",
			Mail: "Adele.Vance@contoso.example", PreferredLanguage: "en-US", JobTitle: "Retail Manager",
			ProxyAddresses: []string{"SMTP:Adele.Vance@contoso.example", "smtp:adelev@contoso.onmicrosoft.example", "SIP:adele.vance@contoso.example"},
			TimeZone:       "Pacific Standard Time",
			Delegates:      []string{alexID},
		},
		{ID: alexID, UPN: "alex.wilber@contoso.example", DisplayName: "Alex Wilber", GivenName: "Alex", Surname: "Wilber", Mail: "Alex.Wilber@contoso.example"},
		{ID: meganID, UPN: "megan.bowen@contoso.example", DisplayName: "Megan Bowen", GivenName: "Megan", Surname: "Bowen", Mail: "Megan.Bowen@contoso.example"},
	}
}

// Stub tokens: "user=<id>;scp=<scopes>" (delegated) or "roles=<roles>"
// (app-only), scopes and roles separated by spaces.
func stubAuth(r *http.Request) (emugraph.Caller, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return emugraph.Caller{}, errors.New("no bearer token")
	}
	c := emugraph.Caller{TenantID: tenant}
	for _, part := range strings.Split(tok, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "user":
			c.UserID = v
		case "scp":
			c.Scopes = strings.Fields(v)
		case "roles":
			c.Roles = strings.Fields(v)
		default:
			return emugraph.Caller{}, errors.New("malformed stub token")
		}
	}
	return c, nil
}

func delegated(user string, scopes ...string) string {
	return "user=" + user + ";scp=" + strings.Join(scopes, " ")
}

func appOnly(roles ...string) string { return "roles=" + strings.Join(roles, " ") }

// adele is the usual caller: Adele with every scope the product asks for.
var adele = delegated(adeleID, "User.Read", "User.ReadBasic.All", "Calendars.ReadWrite", "MailboxSettings.Read", "OnlineMeetings.ReadWrite")

func readOracle(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(emugraph.OraclePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	specOnce sync.Once
	specDoc  *openapi3.T
	specErr  error
)

// spec loads the Graph OpenAPI subset once for all tests.
func spec(t *testing.T) *openapi3.T {
	t.Helper()
	path := emugraph.OraclePath(t, "graph-openapi-subset.yaml")
	specOnce.Do(func() { specDoc, specErr = emugraph.LoadSpec(path) })
	if specErr != nil {
		t.Fatal(specErr)
	}
	return specDoc
}

// env is an emulator served over real HTTP below /sandbox/graph, as the
// sandbox mounts it.
type env struct {
	t        *testing.T
	withSpec bool
	srv      *emugraph.Server
	ts       *httptest.Server
	base     string
}

func newEnv(t *testing.T, doc *openapi3.T) *env {
	t.Helper()
	s, err := emugraph.New(emugraph.Options{Users: testUsers(), Authenticate: stubAuth, Spec: doc})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/sandbox/graph/", http.StripPrefix("/sandbox/graph", s.Handler()))
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	t.Cleanup(func() {
		if errs := s.ValidationErrors(); len(errs) > 0 {
			t.Errorf("the emulator produced responses that fail the schema:\n%s", strings.Join(errs, "\n"))
		}
	})
	return &env{t: t, withSpec: doc != nil, srv: s, ts: ts, base: ts.URL + "/sandbox/graph/v1.0"}
}

// modes runs f against an emulator without the spec and, when the oracle is
// available, with it: hand-written checks and schema checks must agree.
func modes(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	t.Run("hand", func(t *testing.T) {
		t.Parallel()
		f(t, newEnv(t, nil))
	})
	t.Run("spec", func(t *testing.T) {
		t.Parallel()
		f(t, newEnv(t, spec(t)))
	})
}

type response struct {
	status int
	header http.Header
	raw    []byte
	json   map[string]any
}

// errorCode is the Graph error code of a response, or "".
func (r response) errorCode() string {
	e, _ := r.json["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// call sends a request; body is nil, a string of raw JSON, or a value to
// marshal. headers are name, value pairs.
func (e *env) call(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.json); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", req.Method, req.URL, err, raw)
		}
	}
	if resp.Header.Get("request-id") == "" || resp.Header.Get("client-request-id") == "" {
		e.t.Errorf("%s %s: no request-id / client-request-id headers", req.Method, req.URL)
	}
	if resp.StatusCode >= 400 {
		checkErrorShape(e.t, r.json)
	}
	return r
}

// must fails the test unless the response has the status.
func (r response) must(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// checkErrorShape checks Graph's error body: code, message and innerError with
// date, request-id and client-request-id.
func checkErrorShape(t *testing.T, body map[string]any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Errorf("error response without an error object: %v", body)
		return
	}
	for _, k := range []string{"code", "message"} {
		if s, _ := e[k].(string); s == "" {
			t.Errorf("error without %s: %v", k, e)
		}
	}
	inner, _ := e["innerError"].(map[string]any)
	for _, k := range []string{"date", "request-id", "client-request-id"} {
		if s, _ := inner[k].(string); s == "" {
			t.Errorf("innerError without %s: %v", k, e)
		}
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// get walks a decoded JSON value by keys and array indexes.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// at walks a decoded JSON value by a dotted path ("attendees.0.type").
func at(v any, path string) any {
	var keys []any
	for _, k := range strings.Split(path, ".") {
		if i, err := strconv.Atoi(k); err == nil {
			keys = append(keys, i)
		} else {
			keys = append(keys, k)
		}
	}
	return get(v, keys...)
}

// sdkEvent is an event body as msgraph-sdk-go serializes it: with
// @odata.type on the event and its attendees.
func sdkEvent(subject, start, end string) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.event",
		"subject":     subject,
		"body":        map[string]any{"contentType": "html", "content": "Let's kick-start this event planning!"},
		"start":       map[string]any{"dateTime": start, "timeZone": "Pacific Standard Time"},
		"end":         map[string]any{"dateTime": end, "timeZone": "Pacific Standard Time"},
		"location":    map[string]any{"displayName": "Harry's Bar"},
		"attendees": []any{map[string]any{
			"@odata.type":  "#microsoft.graph.attendee",
			"type":         "required",
			"emailAddress": map[string]any{"address": "alex.wilber@contoso.example"},
		}},
	}
}
