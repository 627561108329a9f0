package entra_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/sandbox/emuentra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

const (
	tid      = "7e3c1d2a-5b4f-4c8e-9a61-0f2d3b4c5a6e"
	otherTID = "11111111-2222-3333-4444-555555555555"
	clientID = "5a0c9e1b-2d3f-4a6b-8c7d-9e0f1a2b3c4d"
	secretV  = "app-secret"
	userUPN  = "adele.vance@contoso.example"
	userOID  = "0d2d8a14-6c1e-4b3f-9a57-1e8c4b2d7f01"
)

type env struct {
	emu       *emuentra.Server
	authority string
	client    *http.Client
}

// newEnv serves an emulated Entra ID over HTTPS with a CA of its own. It
// sits at the root of its host: MSAL rebuilds the authority from the host
// and tenant (AuthParams.WithTenant), so a path prefix cannot work.
func newEnv(t *testing.T) *env {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	authority := srv.URL + "/"
	emu, err := emuentra.New(emuentra.Options{
		AuthorityURL: authority, TenantID: tid, TenantDomain: "contoso.example",
		Apps: []emuentra.App{{ClientID: clientID, Secret: secretV, AppIDURI: "api://localhost/" + clientID}},
		Users: []emuentra.User{
			{OID: userOID, UPN: userUPN, Name: "Adele Vance", Roles: []string{scheduler.AdminRole}},
			{OID: "9f000000-0000-0000-0000-000000000009", UPN: "noconsent@contoso.example", Name: "No Consent", NoConsent: true},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", emu.Handler())
	return &env{emu: emu, authority: authority, client: srv.Client()}
}

func (e *env) validator(tenant string, allowed ...string) *entra.Validator {
	return entra.NewValidator(entra.ValidatorConfig{
		AuthorityHost: e.authority, Tenant: tenant, AllowedTenants: allowed, ClientID: clientID,
		HTTPClient: e.client, MinRefresh: time.Hour,
	})
}

func (e *env) ssoToken(t *testing.T, upn string) string {
	t.Helper()
	tok, _, err := e.emu.IssueSSOToken(upn, clientID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// claimsOf decodes a token's payload without checking it.
func claimsOf(t *testing.T, tok string) jwt.MapClaims {
	t.Helper()
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidateGoodToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p, err := e.validator(tid).Validate(context.Background(), e.ssoToken(t, userUPN))
	if err != nil {
		t.Fatal(err)
	}
	if p.OID != userOID || p.TID != tid || !p.IsAdmin() || p.Username != userUPN || p.Assertion == "" {
		t.Fatalf("principal = %+v", p)
	}
	// Multi-tenant with the tenant on the allow-list.
	if _, err := e.validator("organizations", tid).Validate(context.Background(), e.ssoToken(t, userUPN)); err != nil {
		t.Fatalf("organizations: %v", err)
	}
	// App ID URI audience.
	c := claimsOf(t, e.ssoToken(t, userUPN))
	c["aud"] = "api://localhost/" + clientID
	tok, _ := e.emu.IssueToken(c)
	if _, err := e.validator(tid).Validate(context.Background(), tok); err != nil {
		t.Fatalf("api:// audience: %v", err)
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	good := e.ssoToken(t, userUPN)
	mutate := func(f func(c jwt.MapClaims)) string {
		c := claimsOf(t, good)
		f(c)
		tok, err := e.emu.IssueToken(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	header := func(tok string) map[string]any {
		var h map[string]any
		b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
		_ = json.Unmarshal(b, &h)
		return h
	}
	kid, _ := header(good)["kid"].(string)

	noneTok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claimsOf(t, good)).SignedString(jwt.UnsafeAllowNoneSignatureType)

	// HS256 "signed" with the public key, the classic key-confusion attack.
	pub := e.publicKeyPEM(t, kid)
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsOf(t, good))
	hs.Header["kid"] = kid
	hsTok, _ := hs.SignedString(pub)

	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	unknown := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsOf(t, good))
	unknown.Header["kid"] = "not-a-published-kid"
	unknownTok, _ := unknown.SignedString(stranger)
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, claimsOf(t, good))
	forged.Header["kid"] = kid
	forgedTok, _ := forged.SignedString(stranger)

	parts := strings.Split(good, ".")
	c := claimsOf(t, good)
	c["oid"] = "someone-else"
	payload, _ := json.Marshal(c)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]

	now := time.Now()
	tests := []struct {
		name, token, code string
		v                 *entra.Validator
	}{
		{"no token", "", scheduler.ECodeTokenMissing, nil},
		{"malformed", "abc.def", scheduler.ECodeTokenMalformed, nil},
		{"garbage segments", "a.b.c", scheduler.ECodeTokenMalformed, nil},
		{"alg none", noneTok, scheduler.ECodeTokenAlgorithm, nil},
		{"HS256 with the public key", hsTok, scheduler.ECodeTokenAlgorithm, nil},
		{"unknown kid", unknownTok, scheduler.ECodeTokenUnknownKey, nil},
		{"bad signature", forgedTok, scheduler.ECodeTokenSignature, nil},
		{"tampered payload", tampered, scheduler.ECodeTokenSignature, nil},
		{"wrong audience", mutate(func(c jwt.MapClaims) { c["aud"] = "00000003-0000-0000-c000-000000000000" }), scheduler.ECodeTokenAudience, nil},
		{"wrong issuer", mutate(func(c jwt.MapClaims) { c["iss"] = "https://evil.example/" + tid + "/v2.0" }), scheduler.ECodeTokenIssuer, nil},
		{"tenant not allowed", mutate(func(c jwt.MapClaims) {
			c["tid"] = otherTID
			c["iss"] = e.authority + otherTID + "/v2.0"
		}), scheduler.ECodeTokenTenant, e.validator("organizations", tid)},
		{"expired", mutate(func(c jwt.MapClaims) { c["exp"] = now.Add(-10 * time.Minute).Unix() }), scheduler.ECodeTokenExpired, nil},
		{"not yet valid", mutate(func(c jwt.MapClaims) { c["nbf"] = now.Add(10 * time.Minute).Unix() }), scheduler.ECodeTokenNotYetValid, nil},
		{"missing scope", mutate(func(c jwt.MapClaims) { c["scp"] = "User.Read" }), scheduler.ECodeTokenScope, nil},
		{"v1.0 token", mutate(func(c jwt.MapClaims) {
			c["ver"] = "1.0"
			c["iss"] = "https://sts.windows.net/" + tid + "/"
		}), scheduler.ECodeTokenVersion, nil},
		{"no user", mutate(func(c jwt.MapClaims) { delete(c, "oid") }), scheduler.ECodeTokenMalformed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := tt.v
			if v == nil {
				v = e.validator(tid)
			}
			_, err := v.Validate(context.Background(), tt.token)
			if got := scheduler.ErrorCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
		})
	}
}

func (e *env) publicKeyPEM(t *testing.T, kid string) []byte {
	t.Helper()
	resp, err := e.client.Get(e.authority + tid + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, N, E string } `json:"keys"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
			der, _ := x509.MarshalPKIXPublicKey(pub)
			return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		}
	}
	t.Fatalf("kid %s not in JWKS", kid)
	return nil
}

func TestKeyRotationRefreshesWithRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.validator(tid)
	ctx := context.Background()
	if _, err := v.Validate(ctx, e.ssoToken(t, userUPN)); err != nil {
		t.Fatal(err)
	}
	fetches := e.emu.Faults().Hits("keys")
	e.emu.RotateKeys()
	// MinRefresh is an hour but the key set is older than nothing: the
	// first unknown kid after start may refresh only once MinRefresh passed.
	v2 := entra.NewValidator(entra.ValidatorConfig{AuthorityHost: e.authority, Tenant: tid, ClientID: clientID, HTTPClient: e.client, MinRefresh: time.Millisecond})
	if _, err := v2.Validate(ctx, e.ssoToken(t, userUPN)); err != nil {
		t.Fatalf("after rotation, fresh validator: %v", err)
	}
	// The long-lived validator has refreshed recently: it refuses the new
	// kid without fetching again (forged kids cannot hammer Entra ID).
	if _, err := v.Validate(ctx, e.ssoToken(t, userUPN)); scheduler.ErrorCode(err) != scheduler.ECodeTokenUnknownKey {
		t.Fatalf("rate-limited refresh: %v", err)
	}
	if got := e.emu.Faults().Hits("keys"); got != fetches+1 {
		t.Fatalf("key fetches = %d, want %d (only the fresh validator's)", got, fetches+1)
	}
	// Once MinRefresh has passed an unknown kid triggers one refresh.
	v3 := entra.NewValidator(entra.ValidatorConfig{AuthorityHost: e.authority, Tenant: tid, ClientID: clientID, HTTPClient: e.client, MinRefresh: 50 * time.Millisecond})
	oldTok := e.ssoToken(t, userUPN)
	if _, err := v3.Validate(ctx, oldTok); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	e.emu.RotateKeys()
	if _, err := v3.Validate(ctx, e.ssoToken(t, userUPN)); err != nil {
		t.Fatalf("refresh after MinRefresh: %v", err)
	}
}

func TestOnBehalfOf(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	box, _ := secret.New(secret.RandomKey())
	store := &countingCache{TokenCache: inmem.New()}
	newOBO := func(secret string, cache scheduler.TokenCache) *entra.OnBehalfOf {
		return &entra.OnBehalfOf{
			AuthorityHost: e.authority, Tenant: tid, Transport: e.client, Cache: cache, Box: box,
			Creds: entra.Credentials{ClientID: clientID, Secret: secret},
		}
	}
	obo := newOBO(secretV, store)
	v := e.validator(tid)
	ctx := context.Background()
	p, err := v.Validate(ctx, e.ssoToken(t, userUPN))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obo.Token(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.VerifyAccessToken(tok.Token, emuentra.GraphAudience); err != nil {
		t.Fatalf("OBO token is not a Graph token: %v", err)
	}
	// A new SSO token of the same user: served from this process's memory,
	// without reading the shared cache again.
	p2, _ := v.Validate(ctx, e.ssoToken(t, userUPN))
	reads := store.reads.Load()
	if again, err := obo.Token(ctx, p2); err != nil || again.Token != tok.Token {
		t.Fatalf("second Token: %v", err)
	}
	if store.reads.Load() != reads {
		t.Fatal("the second Token read the shared cache")
	}
	// Another replica: from the shared cache.
	if other, err := newOBO(secretV, store).Token(ctx, p2); err != nil || other.Token != tok.Token || store.reads.Load() != reads+1 {
		t.Fatalf("other replica: %v, %d reads", err, store.reads.Load()-reads)
	}
	if n := e.emu.Faults().Hits("token"); n != 1 {
		t.Fatalf("token endpoint hits = %d, want 1", n)
	}

	// Consent missing.
	pc, _ := v.Validate(ctx, e.ssoToken(t, "noconsent@contoso.example"))
	if _, err := obo.Token(ctx, pc); scheduler.ErrorCode(err) != scheduler.ECodeConsentRequired {
		t.Fatalf("no consent: %v", err)
	}
	// Wrong secret.
	bad := newOBO("wrong", inmem.New())
	if _, err := bad.Token(ctx, p); scheduler.ErrorCode(err) != scheduler.ECodeOBOFailed {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(scheduler.ErrorMessage(err), "wrong") {
		t.Fatal("message leaks detail")
	}
}

// certEnv is an emulated Entra ID with an app that authenticates with a
// certificate, as many tenants require.
type certEnv struct {
	emu       *emuentra.Server
	authority string
	client    *http.Client
	cert      *x509.Certificate
	key       *rsa.PrivateKey
}

const certClient = "6b1f0a2c-3d4e-4f5a-9b6c-7d8e9f0a1b2c"

func newCertEnv(t *testing.T, redirectURIs ...string) *certEnv {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	emu, err := emuentra.New(emuentra.Options{
		AuthorityURL: srv.URL + "/", TenantID: tid, TenantDomain: "contoso.example",
		Apps:  []emuentra.App{{ClientID: certClient, CertDER: der, RedirectURIs: redirectURIs, AppIDURI: "api://localhost/" + certClient}},
		Users: []emuentra.User{{OID: userOID, UPN: userUPN, Name: "Adele Vance"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", emu.Handler())
	return &certEnv{emu: emu, authority: srv.URL + "/", client: srv.Client(), cert: cert, key: key}
}

func TestOnBehalfOfWithCertificate(t *testing.T) {
	t.Parallel()
	e := newCertEnv(t)
	sso, _, _ := e.emu.IssueSSOToken(userUPN, certClient)
	v := entra.NewValidator(entra.ValidatorConfig{AuthorityHost: e.authority, Tenant: tid, ClientID: certClient, HTTPClient: e.client})
	p, err := v.Validate(context.Background(), sso)
	if err != nil {
		t.Fatal(err)
	}
	box, _ := secret.New(secret.RandomKey())
	obo := func(key *rsa.PrivateKey) *entra.OnBehalfOf {
		return &entra.OnBehalfOf{
			AuthorityHost: e.authority, Tenant: tid, Transport: e.client, Cache: inmem.New(), Box: box,
			Creds: entra.Credentials{ClientID: certClient, Certs: []*x509.Certificate{e.cert}, Key: key},
		}
	}
	tok, err := obo(e.key).Token(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.emu.VerifyAccessToken(tok.Token, emuentra.GraphAudience); err != nil {
		t.Fatal(err)
	}
	// Another key with the same certificate is refused.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := obo(other).Token(context.Background(), p); scheduler.ErrorCode(err) != scheduler.ECodeOBOFailed {
		t.Fatalf("wrong key: %v", err)
	}
}

// TestWebSignInWithCertificate: the browser sign-in (the add-in's dialog
// fallback and the web page) redeems its code with a client assertion when
// the app has a certificate instead of a secret.
func TestWebSignInWithCertificate(t *testing.T) {
	t.Parallel()
	const redirect = "https://webscheduler.contoso.example/auth/callback"
	e := newCertEnv(t, redirect)
	signIn := func(key *rsa.PrivateKey) (entra.SignedIn, error) {
		w := entra.NewWebSignIn(entra.WebSignInConfig{
			AuthorityHost: e.authority, Tenant: tid, ClientID: certClient, Certs: []*x509.Certificate{e.cert}, Key: key,
			AppIDURI: "api://localhost/" + certClient, RedirectURL: redirect, HTTPClient: e.client,
		})
		target, flow, err := w.Start(context.Background(), userUPN)
		if err != nil {
			t.Fatal(err)
		}
		browser := *e.client
		browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := browser.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		back, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || !strings.HasPrefix(back.String(), redirect) || back.Query().Get("code") == "" {
			t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		return w.Finish(context.Background(), flow, back.Query().Get("state"), back.Query().Get("code"))
	}
	in, err := signIn(e.key)
	if err != nil {
		t.Fatal(err)
	}
	v := entra.NewValidator(entra.ValidatorConfig{AuthorityHost: e.authority, Tenant: tid, ClientID: certClient, HTTPClient: e.client})
	if p, err := v.Validate(context.Background(), in.AccessToken); err != nil || p.OID != userOID || in.OID != userOID {
		t.Fatalf("signed in as %+v; its token: %+v, %v", in, p, err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if _, err := signIn(other); scheduler.ErrorCode(err) != scheduler.ECodeUnauthenticated {
		t.Fatalf("a key that is not the certificate's: %v", err)
	}
}

// TestValidatedTokensAreCached: a token validated once is trusted again
// without parsing or verifying it (counted in allocations, not timed),
// until it expires or Entra ID's key set changes.
func TestValidatedTokensAreCached(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	v := entra.NewValidator(entra.ValidatorConfig{
		AuthorityHost: e.authority, Tenant: tid, ClientID: clientID, HTTPClient: e.client,
		MinRefresh: time.Minute, Now: clock,
	})
	ctx := context.Background()
	tok := e.ssoToken(t, userUPN)
	first, err := v.Validate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Validate(ctx, tok)
	if err != nil || again.OID != first.OID || !again.IsAdmin() || again.Assertion != tok || !slices.Equal(again.Scopes, first.Scopes) {
		t.Fatalf("cached principal %+v, %v; first %+v", again, err, first)
	}
	fresh := make([]string, 3)
	for i := range fresh {
		c := claimsOf(t, tok)
		c["uti"] = fmt.Sprintf("fresh-%d", i) // a different token, same key
		fresh[i], _ = e.emu.IssueToken(c)
	}
	n := 0
	miss := testing.AllocsPerRun(2, func() {
		if _, err := v.Validate(ctx, fresh[n]); err != nil {
			t.Fatal(err)
		}
		n++
	})
	hit := testing.AllocsPerRun(50, func() { _, _ = v.Validate(ctx, tok) })
	t.Logf("allocations per validation: %.0f cached, %.0f not", hit, miss)
	if hit > 2 || miss < 20 {
		t.Fatalf("allocations per validation: %.0f cached, %.0f not cached", hit, miss)
	}

	// Entra ID withdraws the key: trusted from the cache until the key set
	// is next refreshed (here for a token signed with the new key).
	oldKID, _ := jwtHeader(t, tok)["kid"].(string)
	e.emu.RotateKeys()
	e.emu.RetireKey(oldKID)
	if _, err := v.Validate(ctx, tok); err != nil {
		t.Fatalf("before the refresh: %v", err)
	}
	advance(2 * time.Minute)
	if _, err := v.Validate(ctx, e.ssoToken(t, userUPN)); err != nil {
		t.Fatalf("token with the new key: %v", err)
	}
	if _, err := v.Validate(ctx, tok); scheduler.ErrorCode(err) != scheduler.ECodeTokenUnknownKey {
		t.Fatalf("withdrawn key after the refresh: %v", err)
	}

	// Expiry and skew apply to cached tokens too.
	cur := e.ssoToken(t, userUPN)
	if _, err := v.Validate(ctx, cur); err != nil {
		t.Fatal(err)
	}
	exp, _ := claimsOf(t, cur).GetExpirationTime()
	advance(exp.Sub(clock()) + 30*time.Second) // within the minute of skew
	if _, err := v.Validate(ctx, cur); err != nil {
		t.Fatalf("within the skew: %v", err)
	}
	advance(time.Minute)
	if _, err := v.Validate(ctx, cur); scheduler.ErrorCode(err) != scheduler.ECodeTokenExpired {
		t.Fatalf("expired cached token: %v", err)
	}
}

func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	return parsed.Header
}

// countingCache counts reads of a shared token cache.
type countingCache struct {
	scheduler.TokenCache
	reads atomic.Int64
}

func (c *countingCache) Token(ctx context.Context, key string) ([]byte, error) {
	c.reads.Add(1)
	return c.TokenCache.Token(ctx, key)
}
