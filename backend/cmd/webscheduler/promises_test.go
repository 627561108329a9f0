package main

// The privacy and security promises (issue 9 and SECURITY.md), each an
// automated check over every flow of the product.
//
// TestPromises starts the real service in-process (sandbox mode, state in
// Redis), runs every flow in promiseFlows through a client that records
// every response, with a hook on the one transport the service builds its
// outbound clients on that records every request and every dial, and then
// checks each promise over everything recorded:
//
//  1. no egress but the tenant (authority, Graph) and the conferencing service
//  2. stored only what the data inventory lists (README, "What is stored")
//  3. session cookies only
//  4. no tracking: CSP, nosniff, Referrer-Policy, no permissive CORS (the
//     browser half: addin/test/addin.test.js checks that the add-in's
//     network log holds only our origin and Office.js)
//  5. logs carry no secrets or content
//  6. QoE only when enabled, reports admin-only (flowQoE, in every
//     configuration: off, and on with PostgreSQL)
//
// To cover a new flow, add a function to promiseFlows (promises_flows_test.go):
// every promise is then checked over it. The other promises_*_test.go files
// hold what is not a property of all flows: authorization, rate limits,
// CSRF, body limits (promises_security_test.go), faults (promises_faults_test.go),
// and a source scan for outbound clients that bypass the hook
// (promises_source_test.go).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/webscheduler/webscheduler/backend/httpapi"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/tracking"
)

// promiseConfigs are the deployments every flow runs against: both
// conferencing providers, and call quality turned on, state in Redis as in
// production.
var promiseConfigs = []struct {
	name string
	env  func(t *testing.T) map[string]string
}{
	{"template", func(*testing.T) map[string]string { return nil }},
	{"teams", func(*testing.T) map[string]string { return map[string]string{"WEBSCHEDULER_PROVIDER": "teams"} }},
	{"template-with-qoe", func(t *testing.T) map[string]string {
		return map[string]string{"WEBSCHEDULER_QOE_DATABASE_URL": qoeDatabase(t), "WEBSCHEDULER_QOE_INGEST_KEY": "promise-ingest-key-0123"}
	}},
}

func TestPromises(t *testing.T) {
	t.Parallel()
	for _, pc := range promiseConfigs {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			s := startSuite(t, suiteOptions{env: pc.env(t), redis: true})
			for _, f := range promiseFlows {
				t.Run("flow/"+f.name, func(t *testing.T) { f.run(t, s.on(t)) })
			}
			s.collectMailboxContent()
			t.Run("promise/1-no-egress-but-tenant-and-conferencing", s.checkEgress)
			t.Run("promise/2-stored-only-the-inventory", s.checkStore)
			t.Run("promise/3-session-cookies-only", s.checkCookies)
			t.Run("promise/4-no-tracking-headers", s.checkHeaders)
			t.Run("promise/5-logs-carry-no-secrets", s.checkLogs)
		})
	}
}

// TestPromisesOverTLS runs the flows that set cookies with the service
// serving HTTPS itself and an https public URL: every cookie must then be
// Secure and carry the __Host- prefix.
func TestPromisesOverTLS(t *testing.T) {
	t.Parallel()
	s := startSuite(t, suiteOptions{tls: true})
	for _, f := range promiseFlows {
		if f.setsCookies {
			t.Run("flow/"+f.name, func(t *testing.T) { f.run(t, s.on(t)) })
		}
	}
	t.Run("promise/3-session-cookies-only", s.checkCookies)
	t.Run("promise/4-no-tracking-headers", s.checkHeaders)
	if s.countCookies() == 0 {
		t.Fatal("no flow set a cookie over TLS: the check proved nothing")
	}
}

// suite is one running service and everything recorded about it.
type suite struct {
	t       *testing.T // the flow or check running now
	h       *harness
	client  *http.Client // records every response; no cookie jar
	tls     bool
	egress  *egressLog
	seen    *responseLog
	secrets *secretSet
	rc      *redis.Client // nil: in-memory state
	prefix  string
}

type suiteOptions struct {
	env        map[string]string
	redis      bool
	tls        bool
	extraUsers []sandbox.User
}

// on returns the suite reporting to t (a flow's or a check's subtest).
func (s *suite) on(t *testing.T) *suite {
	c := *s
	c.t = t
	return &c
}

// startSuite starts the service like startSandboxWith, with the egress
// hook, optionally Redis and TLS.
func startSuite(t *testing.T, o suiteOptions) *suite {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range o.env {
		env[k] = v
	}
	scheme := "http"
	s := &suite{t: t, tls: o.tls, egress: &egressLog{}, seen: &responseLog{}, secrets: newSecretSet()}
	hooks := testHooks{listener: ln, extraUsers: o.extraUsers, egress: s.egress.wrap,
		// Change tracking looks at mailboxes while the flows run.
		tuneAdmin: func(_ *refresh.Engine, tr *tracking.Tracker) { tr.Interval = 200 * time.Millisecond }}
	var roots *x509.CertPool
	if o.tls {
		scheme = "https"
		var certFile, keyFile string
		roots, certFile, keyFile = selfSignedCert(t)
		env["WEBSCHEDULER_TLS_CERT"], env["WEBSCHEDULER_TLS_KEY"] = certFile, keyFile
	}
	if o.redis {
		redisURL := testRedisURL(t)
		s.prefix = randomPrefix()
		hooks.redisPrefix = s.prefix
		s.rc = redisClient(t, redisURL, s.prefix)
		env["WEBSCHEDULER_REDIS_URL"] = redisURL
		env["WEBSCHEDULER_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	}
	s.h = launch(t, ln, scheme, env, hooks)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}
	s.client = &http.Client{Transport: recorder{next: tr, log: s.seen, secrets: s.secrets}, Timeout: 60 * time.Second}
	return s
}

// browser is a client with a cookie jar of its own, as one browser.
func (s *suite) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *s.client
	c.Jar = jar
	return &c
}

// token gets an SSO token for upn, as Office would hand it to the add-in.
func (s *suite) token(upn string) string {
	s.t.Helper()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	resp := s.send(s.client, "POST", "/sandbox/token", strings.NewReader(url.Values{"user": {upn}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, &body)
	if resp.StatusCode != 200 || body.AccessToken == "" {
		s.t.Fatalf("sandbox token for %s: %d", upn, resp.StatusCode)
	}
	s.secrets.add("token", body.AccessToken)
	return body.AccessToken
}

// call sends a JSON request with a bearer token and decodes the answer.
func (s *suite) call(method, path, token string, body any, out any) *http.Response {
	s.t.Helper()
	return s.callWith(method, path, token, body, out, nil)
}

func (s *suite) callWith(method, path, token string, body any, out any, headers map[string]string) *http.Response {
	s.t.Helper()
	var rd io.Reader
	h := map[string]string{}
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
		h["Content-Type"] = "application/json"
	}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	for k, v := range headers {
		h[k] = v
	}
	return s.send(s.client, method, path, rd, h, out)
}

// get fetches path with client and returns status and body.
func (s *suite) get(client *http.Client, path string) (*http.Response, string) {
	s.t.Helper()
	var raw json.RawMessage
	resp := s.send(client, "GET", path, nil, nil, &raw)
	return resp, string(raw)
}

// send is the one place requests leave; out, when a *json.RawMessage,
// receives the raw body whatever its type.
func (s *suite) send(client *http.Client, method, path string, rd io.Reader, headers map[string]string, out any) *http.Response {
	s.t.Helper()
	target := path
	if !strings.HasPrefix(path, "http") {
		target = s.h.base + path
	}
	req, err := http.NewRequestWithContext(s.t.Context(), method, target, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	switch o := out.(type) {
	case nil:
	case *json.RawMessage:
		*o = data
	default:
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: status %d, body %.300q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp
}

// ---- recording what reaches the service and what leaves it ----

// seenResponse is one response a flow received.
type seenResponse struct {
	method, path string
	status       int
	header       http.Header
}

type responseLog struct {
	mu   sync.Mutex
	list []seenResponse
}

func (l *responseLog) add(r seenResponse) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, r)
}

func (l *responseLog) all() []seenResponse {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

// recorder records every response the flows' clients get, redirects
// included, and learns the authorization codes that pass through browsers.
type recorder struct {
	next    http.RoundTripper
	log     *responseLog
	secrets *secretSet
}

func (r recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.log.add(seenResponse{method: req.Method, path: req.URL.Path, status: resp.StatusCode, header: resp.Header.Clone()})
	if loc, err := url.Parse(resp.Header.Get("Location")); err == nil {
		for _, k := range []string{"code", "state", "code_challenge"} {
			r.secrets.add("token", loc.Query().Get(k))
		}
	}
	return resp, nil
}

// egressLog records every request and dial of the service's outbound
// clients, and the tokens that come back from the authority.
type egressLog struct {
	mu       sync.Mutex
	requests []string // method host path
	hosts    map[string]int
	dials    map[string]int
	tokens   []string
}

func (e *egressLog) wrap(base *http.Transport) http.RoundTripper {
	dial := base.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		e.mu.Lock()
		if e.dials == nil {
			e.dials = map[string]int{}
		}
		e.dials[addr]++
		e.mu.Unlock()
		return dial(ctx, network, addr)
	}
	return egressRecorder{next: base, log: e}
}

type egressRecorder struct {
	next http.RoundTripper
	log  *egressLog
}

func (r egressRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.log.mu.Lock()
	if r.log.hosts == nil {
		r.log.hosts = map[string]int{}
	}
	r.log.hosts[req.URL.Host]++
	r.log.requests = append(r.log.requests, req.Method+" "+req.URL.Host+" "+req.URL.Path)
	r.log.mu.Unlock()
	resp, err := r.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/token") {
		return resp, err
	}
	// Token responses: remember the tokens, so the store and the log can be
	// searched for them; then hand the body on unchanged.
	data, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if rerr == nil {
		var tok map[string]any
		if json.Unmarshal(data, &tok) == nil {
			r.log.mu.Lock()
			for _, k := range []string{"access_token", "refresh_token", "id_token"} {
				if v, ok := tok[k].(string); ok && v != "" {
					r.log.tokens = append(r.log.tokens, v)
				}
			}
			r.log.mu.Unlock()
		}
	}
	return resp, nil
}

// ---- what must never be stored or logged ----

// secretSet is everything the flows handled that the store and logs must
// not hold in the clear: tokens, passcodes, subjects, bodies, addresses
// and names.
type secretSet struct {
	mu    sync.Mutex
	items map[string]string // value → kind
}

func newSecretSet() *secretSet { return &secretSet{items: map[string]string{}} }

func (s *secretSet) add(kind, v string) {
	v = strings.TrimSpace(v)
	if len(v) < 5 {
		return // too short to search for without false alarms
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.items[v] = kind
}

func (s *secretSet) snapshot() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.items)
}

// needles turns one secret into what to search for: a JWT by its payload
// and signature (every JWT of one issuer shares its header), addresses and
// names case-insensitively.
func needles(v, kind string) []string {
	if kind == "token" && strings.Count(v, ".") == 2 {
		parts := strings.Split(v, ".")
		return []string{parts[1], parts[2]}
	}
	if kind == "address" || kind == "name" {
		return []string{strings.ToLower(v)}
	}
	return []string{v}
}

var digitsOnly = regexp.MustCompile(`^[0-9]+$`)

// findSecrets lists which secrets occur in haystack. Numeric secrets
// (passcodes) must stand alone, so that a passcode is not "found" inside
// a timestamp.
func findSecrets(haystack string, secrets map[string]string) []string {
	lower := strings.ToLower(haystack)
	var found []string
	for v, kind := range secrets {
		for _, n := range needles(v, kind) {
			hay := haystack
			if kind == "address" || kind == "name" {
				hay = lower
			}
			if digitsOnly.MatchString(n) {
				if regexp.MustCompile(`(^|[^0-9])` + n + `([^0-9]|$)`).MatchString(hay) {
					found = append(found, kind+" "+n)
				}
				continue
			}
			if strings.Contains(hay, n) {
				found = append(found, kind+" "+shorten(n))
			}
		}
	}
	sort.Strings(found)
	return found
}

func shorten(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{12,}={0,2}`)

// withDecoded appends to s every base64 run in it, decoded: a value stored
// as base64 must not hide plaintext either.
func withDecoded(s string) string {
	var b strings.Builder
	b.WriteString(s)
	for _, run := range base64Run.FindAllString(s, -1) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if d, err := enc.DecodeString(run); err == nil {
				b.WriteString("\n")
				b.Write(d)
				break
			}
		}
	}
	return b.String()
}

// collectMailboxContent registers what people wrote in their calendar
// items (subjects, the text around the join block) and their addresses.
func (s *suite) collectMailboxContent() {
	for _, upn := range []string{adele, alex} {
		s.secrets.add("address", upn)
		for _, ev := range s.h.mailbox(upn) {
			s.secrets.add("subject", ev.Subject)
			for _, line := range strings.Split(stripTags(ev.Body.Content), "\n") {
				if line = strings.TrimSpace(line); len(line) >= 12 && !strings.Contains(line, "http") {
					s.secrets.add("body", line)
				}
			}
		}
	}
	for _, tok := range s.egress.snapshotTokens() {
		s.secrets.add("token", tok)
	}
}

func (e *egressLog) snapshotTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.tokens)
}

var tag = regexp.MustCompile(`<[^>]*>`)

// stripTags leaves the text of an HTML body, one line per block, without
// the join block (the service's own text, which carries IDs and links).
func stripTags(html string) string {
	html = joininfo.Remove(html, joininfo.BodyHTML)
	html = regexp.MustCompile(`(?i)<(br|/p|/div|/li|/tr)[^>]*>`).ReplaceAllString(html, "\n")
	return tag.ReplaceAllString(html, "")
}

const alex = "alex.wilber@contoso.example"

// ---- the promises ----

// checkEgress: promise 1. Every outbound request went to the authority or
// Graph (the template provider calls no conferencing service; Teams is
// Graph), every dial to their addresses, and the flows did reach both.
func (s *suite) checkEgress(t *testing.T) {
	sb := s.h.in.sandbox
	allowed := map[string]bool{hostPort(t, sb.AuthorityHost): true, hostPort(t, sb.GraphURL): true}
	s.egress.mu.Lock()
	defer s.egress.mu.Unlock()
	for host, n := range s.egress.hosts {
		if !allowed[host] {
			t.Errorf("%d outbound requests to %s, which is neither the authority nor Graph", n, host)
		}
	}
	for addr, n := range s.egress.dials {
		if !allowed[addr] {
			t.Errorf("%d outbound dials to %s, which is neither the authority nor Graph", n, addr)
		}
	}
	for host := range allowed {
		if s.egress.hosts[host] == 0 {
			t.Errorf("no flow reached %s: the recorder saw %v", host, s.egress.hosts)
		}
	}
}

func hostPort(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// inventory is README's "What is stored" (DESIGN §5 plus the admin's and
// the rate limiter's keys): the
// key families under the prefix, and the longest life each may have
// (0: lives until changed, no TTL).
var inventory = []inventoryItem{
	{"sess:", 8*time.Hour + time.Minute}, // sliding idle timeout
	{"tok:", 2 * time.Hour},              // until the token expires
	{"conf:", 400 * 24 * time.Hour},      // until the meeting ends plus 30 days
	{"idem:", 24 * time.Hour},            // 24 h
	{"job:", 30 * 24 * time.Hour},        // refresh jobs, 30 days
	{"rate:", time.Minute},               // one rate-limit window
	{"settings", 0},                      // admin settings, until changed
	{"audit", 400 * 24 * time.Hour},      // the admin audit log
	{"track:", 30 * 24 * time.Hour},      // change tracking: 7 days per mailbox, flags 30
}

type inventoryItem struct {
	family  string
	maxLife time.Duration
}

// checkStore: promise 2. Only inventory families, each with its lifetime,
// and no secret in any key or value, raw or base64-decoded.
func (s *suite) checkStore(t *testing.T) {
	if s.rc == nil {
		t.Skip("in-memory state")
	}
	ctx := t.Context()
	keys, err := s.rc.Keys(ctx, s.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("the flows stored nothing: the check proved nothing")
	}
	secrets := s.secrets.snapshot()
	families := map[string]int{}
	for _, k := range keys {
		name := strings.TrimPrefix(k, s.prefix)
		i := slices.IndexFunc(inventory, func(e inventoryItem) bool { return strings.HasPrefix(name, e.family) })
		if i < 0 {
			t.Errorf("key %s is not in the data inventory", name)
			continue
		}
		families[inventory[i].family]++
		ttl, err := s.rc.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl == -2 { // Redis: no such key. A lease released since the scan keeps nothing.
			continue
		}
		switch max := inventory[i].maxLife; {
		case max == 0 && ttl > 0:
			t.Errorf("%s expires after %v; the inventory keeps it until changed", name, ttl)
		case max > 0 && (ttl == -1 || ttl > max): // -1: no expiry; 0: expiring this millisecond
			t.Errorf("%s lives %v; the inventory allows at most %v", name, ttl, max)
		}
		raw := redisValue(t, s.rc, k)
		if found := findSecrets(withDecoded(name+"\n"+raw), secrets); len(found) > 0 {
			t.Errorf("%s holds in the clear: %v", name, found)
		}
	}
	for _, f := range []string{"sess:", "tok:", "conf:", "idem:", "rate:", "job:", "settings", "audit", "track:"} {
		if families[f] == 0 {
			t.Errorf("no %s key after all flows: the check did not cover it", f)
		}
	}
	t.Logf("keys by family: %v; %d secrets searched for", families, len(secrets))
}

// redisValue is a key's whole value as text, whatever its type.
func redisValue(t *testing.T, rc *redis.Client, k string) string {
	ctx := t.Context()
	typ, err := rc.Type(ctx, k).Result()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	switch typ {
	case "string":
		v, _ := rc.Get(ctx, k).Result()
		parts = append(parts, v)
	case "hash":
		for f, v := range rc.HGetAll(ctx, k).Val() {
			parts = append(parts, f, v)
		}
	case "list":
		parts = rc.LRange(ctx, k, 0, -1).Val()
	case "set":
		parts = rc.SMembers(ctx, k).Val()
	case "zset":
		parts = rc.ZRange(ctx, k, 0, -1).Val()
	case "none":
	default:
		t.Errorf("%s has type %s, which the check cannot read", k, typ)
	}
	return strings.Join(parts, "\n")
}

// checkCookies: promise 3. Every Set-Cookie is a session cookie, HttpOnly,
// with SameSite; over https also Secure and __Host- (host-only, path /).
// A cookie that deletes (empty value, already expired) stores nothing and
// is allowed: it is how sign-out removes a cookie.
func (s *suite) checkCookies(t *testing.T) {
	n := cookieProblems(t.Errorf, s.seen.all(), s.tls)
	t.Logf("%d Set-Cookie headers checked", n)
}

// errorf reports a broken promise (testing.T's Errorf, or a collector in
// TestPromiseChecksCatchBreaches).
type errorf func(format string, args ...any)

// cookieProblems reports every cookie that breaks promise 3 and returns
// how many it checked.
func cookieProblems(report errorf, seen []seenResponse, tls bool) int {
	n := 0
	for _, r := range seen {
		for _, raw := range r.header.Values("Set-Cookie") {
			n++
			c, err := http.ParseSetCookie(raw)
			if err != nil {
				report("%s %s: unparseable Set-Cookie %q: %v", r.method, r.path, raw, err)
				continue
			}
			where := fmt.Sprintf("%s %s: cookie %s", r.method, r.path, c.Name)
			deletes := c.Value == "" && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())))
			if !deletes && (c.RawExpires != "" || c.MaxAge != 0) {
				report("%s is persistent: %q", where, raw)
			}
			if !c.HttpOnly {
				report("%s is not HttpOnly", where)
			}
			if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
				report("%s has no SameSite", where)
			}
			if c.SameSite == http.SameSiteNoneMode && !c.Secure {
				report("%s is SameSite=None without Secure", where)
			}
			if tls && (!c.Secure || !strings.HasPrefix(c.Name, "__Host-") || c.Path != "/" || c.Domain != "") {
				report("%s over https is not a Secure __Host- cookie on path / without Domain: %q", where, raw)
			}
		}
	}
	return n
}

func (s *suite) countCookies() int {
	n := 0
	for _, r := range s.seen.all() {
		n += len(r.header.Values("Set-Cookie"))
	}
	return n
}

// checkHeaders: promise 4. Every response carries nosniff, a Referrer-Policy
// that tells other origins nothing, and a CSP that loads nothing from
// another origin but Office.js on add-in pages and lets only Outlook frame
// add-in pages (nothing frames any other). No response allows another
// origin to read it, except the Jitsi directory: Jitsi Meet's web client
// fetches it from the meeting's origin (dialInConfCodeUrl), it answers
// exact lookups only and is public by design (the dial-in numbers and
// conference IDs it maps are printed in every invitation).
func (s *suite) checkHeaders(t *testing.T) {
	all := s.seen.all()
	if len(all) == 0 {
		t.Fatal("no responses recorded")
	}
	headerProblems(t.Errorf, all, s.tls)
	t.Logf("%d responses checked", len(all))
}

// headerProblems reports every response that breaks promise 4.
func headerProblems(report errorf, seen []seenResponse, tls bool) {
	for _, r := range seen {
		where := fmt.Sprintf("%s %s (%d)", r.method, r.path, r.status)
		if v := r.header.Get("X-Content-Type-Options"); v != "nosniff" {
			report("%s: X-Content-Type-Options %q", where, v)
		}
		if v := r.header.Get("Referrer-Policy"); v != "no-referrer" && v != "same-origin" {
			report("%s: Referrer-Policy %q", where, v)
		}
		if tls && !strings.HasPrefix(r.header.Get("Strict-Transport-Security"), "max-age=") {
			report("%s: no Strict-Transport-Security over https", where)
		}
		checkCSP(report, where, addinPage(r.path), r.header.Get("Content-Security-Policy"))
		acao := r.header.Get("Access-Control-Allow-Origin")
		if acao != "" && !strings.HasPrefix(r.path, "/jitsi/") {
			report("%s: Access-Control-Allow-Origin %q", where, acao)
		}
		if v := r.header.Get("Access-Control-Allow-Credentials"); v != "" {
			report("%s: Access-Control-Allow-Credentials %q", where, v)
		}
	}
}

// addinPage reports whether Outlook frames path: the add-in's files and
// its sign-in dialog.
func addinPage(path string) bool { return strings.HasPrefix(path, "/addin/") }

// checkCSP parses a policy and checks every source it allows.
func checkCSP(report errorf, where string, addin bool, csp string) {
	if csp == "" {
		report("%s: no Content-Security-Policy", where)
		return
	}
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			directives[strings.ToLower(f[0])] = f[1:]
		}
	}
	fa, ok := directives["frame-ancestors"]
	switch {
	case !ok:
		report("%s: CSP without frame-ancestors: %q", where, csp)
	case addin && slices.Equal(fa, []string{"'none'"}): // stricter still, e.g. a redirect
	case addin:
		for _, src := range fa {
			if src != "'self'" && !slices.Contains(httpapi.OutlookOrigins, src) {
				report("%s: frame-ancestors allows %s, which is not Outlook", where, src)
			}
		}
	case !slices.Equal(fa, []string{"'none'"}):
		report("%s: frame-ancestors %v, want 'none'", where, fa)
	}
	if _, ok := directives["default-src"]; !ok {
		report("%s: CSP without default-src: %q", where, csp)
	}
	for name, srcs := range directives {
		if name == "frame-ancestors" || !strings.HasSuffix(name, "-src") {
			continue
		}
		for _, src := range srcs {
			switch {
			case src == "'self'", src == "'none'":
			case src == "data:" && (name == "img-src" || name == "font-src"):
			case src == httpapi.OfficeJSOrigin && name == "script-src" && addin:
			case src == "'unsafe-inline'" && name == "style-src":
			default:
				report("%s: %s allows %s", where, name, src)
			}
		}
	}
}

// checkLogs: promise 5. The log of every flow, at debug level, holds none
// of the secrets, and no Authorization header or query string.
func (s *suite) checkLogs(t *testing.T) {
	logs := s.h.logs.String()
	if len(logs) == 0 {
		t.Fatal("no log captured")
	}
	if found := findSecrets(logs, s.secrets.snapshot()); len(found) > 0 {
		t.Errorf("the log holds: %v", found)
	}
	for _, bad := range []string{"Bearer ", "eyJ", "?code=", "&code=", "access_token"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the log holds %q", bad)
		}
	}
}

// selfSignedCert writes a certificate for 127.0.0.1 and returns a pool
// that trusts it.
func selfSignedCert(t *testing.T) (*x509.CertPool, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, certFile, keyFile
}

// TestPromiseChecksCatchBreaches shows that each check fails on what it
// guards against, so that a passing TestPromises means something.
func TestPromiseChecksCatchBreaches(t *testing.T) {
	t.Parallel()
	count := func(check func(report errorf)) int {
		n := 0
		check(func(string, ...any) { n++ })
		return n
	}
	secrets := map[string]string{
		"Adele.Vance@contoso.example": "address", "Budget review": "subject", "482913": "passcode",
		"eyJhbGciOiJSUzI1NiJ9.eyJvaWQiOiIxMjM0NTY3ODkwYWJjZGVmIn0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg": "token",
	}
	for _, tt := range []struct {
		hay  string
		want int
	}{
		{`{"msg":"request","elapsed":1482913077}`, 0}, // a passcode's digits inside a number
		{`{"to":"adele.vance@CONTOSO.example"}`, 1},
		{`passcode 482913.`, 1},
		{withDecoded(base64.StdEncoding.EncodeToString([]byte("subject: Budget review"))), 1},
		{"Authorization: Bearer xyz.eyJvaWQiOiIxMjM0NTY3ODkwYWJjZGVmIn0.other", 1},
	} {
		if got := findSecrets(tt.hay, secrets); len(got) != tt.want {
			t.Errorf("findSecrets(%q) = %v, want %d findings", tt.hay, got, tt.want)
		}
	}

	resp := func(path string, h map[string]string) []seenResponse {
		header := http.Header{}
		for k, v := range h {
			header.Add(k, v)
		}
		return []seenResponse{{method: "GET", path: path, status: 200, header: header}}
	}
	for _, tt := range []struct{ name, cookie string }{
		{"persistent", "sid=1; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax"},
		{"expires", "sid=1; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly; SameSite=Lax"},
		{"script-readable", "sid=1; Path=/; SameSite=Lax"},
		{"no SameSite", "sid=1; Path=/; HttpOnly"},
	} {
		if count(func(r errorf) { cookieProblems(r, resp("/", map[string]string{"Set-Cookie": tt.cookie}), false) }) == 0 {
			t.Errorf("a %s cookie passed", tt.name)
		}
	}
	if count(func(r errorf) {
		cookieProblems(r, resp("/", map[string]string{"Set-Cookie": "ws_session=1; Path=/; HttpOnly; SameSite=Lax"}), true)
	}) == 0 {
		t.Error("a cookie without Secure and __Host- passed over https")
	}
	if n := count(func(r errorf) {
		cookieProblems(r, resp("/", map[string]string{"Set-Cookie": "__Host-s=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"}), true)
	}); n != 0 {
		t.Error("a cookie that deletes itself was refused")
	}

	good := map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
		"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
	}
	if n := count(func(r errorf) { headerProblems(r, resp("/help", good), false) }); n != 0 {
		t.Errorf("good headers gave %d problems", n)
	}
	for _, tt := range []struct{ name, path, key, value string }{
		{"a tracker", "/help", "Content-Security-Policy", "default-src 'self' https://tracker.example; frame-ancestors 'none'"},
		{"framing", "/help", "Content-Security-Policy", "default-src 'self'; frame-ancestors *"},
		{"framing by anyone", "/addin/taskpane.html", "Content-Security-Policy", "default-src 'self'; frame-ancestors https://evil.example"},
		{"Office.js outside the add-in", "/help", "Content-Security-Policy", "default-src 'self'; script-src " + httpapi.OfficeJSOrigin + "; frame-ancestors 'none'"},
		{"open CORS", "/api/v1/me", "Access-Control-Allow-Origin", "*"},
		{"sniffing", "/help", "X-Content-Type-Options", ""},
		{"a leaking referrer", "/help", "Referrer-Policy", "unsafe-url"},
	} {
		h := maps.Clone(good)
		h[tt.key] = tt.value
		if count(func(r errorf) { headerProblems(r, resp(tt.path, h), false) }) == 0 {
			t.Errorf("%s passed", tt.name)
		}
	}
}
