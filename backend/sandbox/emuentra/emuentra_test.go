package emuentra

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

const (
	tenantID       = "8b5f3c3e-1c2d-4e5f-9a8b-7c6d5e4f3a2b"
	tenantDomain   = "contoso.example"
	clientID       = "2c3caa80-93f9-425e-8b85-0745f50c0d24"
	otherClientID  = "5d0c8e7a-1111-4a2b-9c3d-123456789abc"
	publicClientID = "7e1f2a3b-2222-4c5d-8e9f-abcdefabcdef"
	clientSecret   = "s3cr3t~Value.with+symbols"
	redirectURI    = "https://app.example/auth/callback"
	appIDURI       = "api://localhost:8080/" + clientID
	graphDefault   = "https://graph.microsoft.com/.default"
	adeleUPN       = "adele.vance@contoso.example"
	alexUPN        = "alex.wilber@contoso.example"
	noConsentUPN   = "no.consent@contoso.example"
)

// certificate is a client certificate for private_key_jwt.
type certificate struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

func newCertificate() certificate {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "web scheduler test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return certificate{cert, key}
}

// Made once: RSA key generation is slow under the race detector.
var (
	registeredCert   = sync.OnceValue(newCertificate)
	unregisteredCert = sync.OnceValue(newCertificate)
)

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// env is a Server on a TLS test server, mounted under the path prefix of its
// authority and, for azidentity, at the root too (see
// TestAzidentityDropsTheAuthorityPath).
type env struct {
	s         *Server
	ts        *httptest.Server
	clock     *clock
	authority string

	mu    sync.Mutex
	paths []string // of every request, in order
}

func (e *env) requestPaths() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.paths)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvMounted(t, true)
}

func newEnvMounted(t *testing.T, atRoot bool) *env {
	t.Helper()
	mux := http.NewServeMux()
	e := &env{clock: &clock{}}
	e.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths = append(e.paths, r.URL.Path)
		e.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(e.ts.Close)
	e.authority = e.ts.URL + "/sandbox/entra/"
	s, err := New(Options{
		AuthorityURL: e.authority,
		TenantID:     tenantID,
		TenantDomain: tenantDomain,
		Apps: []App{
			{ClientID: clientID, Name: "Web Scheduler", Secret: clientSecret, CertDER: registeredCert().cert.Raw,
				RedirectURIs: []string{redirectURI}, AppIDURI: appIDURI},
			{ClientID: otherClientID, Name: "Other app", Secret: "other-secret"},
			{ClientID: publicClientID, Name: "Public app", RedirectURIs: []string{"http://localhost/callback"}},
		},
		Users: []User{
			{OID: "6467882c-fdfd-4354-a1ed-4e13f064be25", UPN: adeleUPN, Name: "Adele Vance", Roles: []string{"WebScheduler.Admin"}},
			{OID: "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", UPN: alexUPN, Name: "Alex Wilber"},
			{OID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", UPN: noConsentUPN, Name: "No Consent", NoConsent: true},
		},
		Now: e.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	mux.Handle("/sandbox/entra/", http.StripPrefix("/sandbox/entra", s.Handler()))
	if atRoot {
		mux.Handle("/", s.Handler())
	}
	return e
}

func (e *env) clientOptions(retries int32) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.authority},
		Transport: e.ts.Client(),
		Retry:     policy.RetryOptions{MaxRetries: retries, RetryDelay: time.Millisecond, MaxRetryDelay: 10 * time.Millisecond},
	}
}

func (e *env) oboOptions() *azidentity.OnBehalfOfCredentialOptions {
	return &azidentity.OnBehalfOfCredentialOptions{ClientOptions: e.clientOptions(-1), DisableInstanceDiscovery: true}
}

func (e *env) sso(t *testing.T, upn, client string) string {
	t.Helper()
	tok, _, err := e.s.IssueSSOToken(upn, client)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// noRedirects is the test server's client, not following redirects.
func (e *env) noRedirects() *http.Client {
	c := *e.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// post sends a form to the token endpoint of tenant seg.
func (e *env) post(t *testing.T, seg string, form url.Values, edit func(*http.Request)) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.authority+seg+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if edit != nil {
		edit(req)
	}
	return e.do(t, req)
}

func (e *env) do(t *testing.T, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := e.noRedirects().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return resp, m
}

func getToken(t *testing.T, cred azcore.TokenCredential) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tk, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphDefault}})
	return tk.Token, err
}

// payload decodes a JWT's claims without verifying it.
func payload(t *testing.T, raw string, part int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[part])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantEntraError checks an Entra error body: error, AADSTS code, and the
// description starting with that code.
func wantEntraError(t *testing.T, resp *http.Response, body map[string]any, status int, errCode string, aadsts int) {
	t.Helper()
	if resp.StatusCode != status || body["error"] != errCode {
		t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, errCode)
	}
	codes, _ := body["error_codes"].([]any)
	desc, _ := body["error_description"].(string)
	prefix := "AADSTS" + big.NewInt(int64(aadsts)).String() + ":"
	if len(codes) != 1 || codes[0] != float64(aadsts) || !strings.HasPrefix(desc, prefix) {
		t.Fatalf("got codes %v, description %q; want %d", codes, desc, aadsts)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
		if body[k] == nil {
			t.Errorf("error body lacks %s", k)
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := map[string]Options{
		"relative authority": {AuthorityURL: "/sandbox/entra/", TenantID: tenantID},
		"tenant not a GUID":  {AuthorityURL: "https://127.0.0.1/", TenantID: "contoso"},
		"client ID repeated": {AuthorityURL: "https://127.0.0.1/", TenantID: tenantID, Apps: []App{{ClientID: clientID}, {ClientID: strings.ToUpper(clientID)}}},
		"user without OID":   {AuthorityURL: "https://127.0.0.1/", TenantID: tenantID, Users: []User{{UPN: alexUPN}}},
		"bad certificate":    {AuthorityURL: "https://127.0.0.1/", TenantID: tenantID, Apps: []App{{ClientID: clientID, CertDER: []byte("x")}}},
	}
	for name, o := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(o); err == nil {
				t.Fatal("New accepted bad options")
			}
		})
	}
}

func TestDiscoveryAndKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tenantBase := e.authority + tenantID + "/"
	tests := []struct {
		seg, issuer, tokenEndpoint string
	}{
		{tenantID, e.authority + tenantID + "/v2.0", tenantBase + "oauth2/v2.0/token"},
		{strings.ToUpper(tenantID), e.authority + tenantID + "/v2.0", tenantBase + "oauth2/v2.0/token"},
		{tenantDomain, e.authority + tenantID + "/v2.0", tenantBase + "oauth2/v2.0/token"},
		{"organizations", e.authority + "{tenantid}/v2.0", e.authority + "organizations/oauth2/v2.0/token"},
		{"common", e.authority + "{tenantid}/v2.0", e.authority + "common/oauth2/v2.0/token"},
	}
	for _, tc := range tests {
		t.Run(tc.seg, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, e.authority+tc.seg+"/v2.0/.well-known/openid-configuration", nil)
			resp, doc := e.do(t, req)
			if resp.StatusCode != http.StatusOK || doc["issuer"] != tc.issuer || doc["token_endpoint"] != tc.tokenEndpoint {
				t.Fatalf("got %d %v", resp.StatusCode, doc)
			}
			for _, k := range []string{"authorization_endpoint", "jwks_uri", "end_session_endpoint", "response_types_supported",
				"subject_types_supported", "scopes_supported", "claims_supported", "tenant_region_scope", "cloud_instance_name"} {
				if _, ok := doc[k]; !ok {
					t.Errorf("discovery lacks %s", k)
				}
			}
			if algs := doc["id_token_signing_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RS256" {
				t.Errorf("algs %v", algs)
			}
			req, _ = http.NewRequest(http.MethodGet, doc["jwks_uri"].(string), nil)
			resp, jwks := e.do(t, req)
			keys, _ := jwks["keys"].([]any)
			if resp.StatusCode != http.StatusOK || len(keys) != 1 {
				t.Fatalf("jwks %d %v", resp.StatusCode, jwks)
			}
			k := keys[0].(map[string]any)
			for _, f := range []string{"kty", "use", "kid", "x5t", "n", "e", "x5c"} {
				if k[f] == nil {
					t.Errorf("key lacks %s", f)
				}
			}
			if k["kty"] != "RSA" || k["use"] != "sig" || k["e"] != "AQAB" {
				t.Errorf("key %v", k)
			}
		})
	}
	t.Run("unknown tenant", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"fabrikam.example/v2.0/.well-known/openid-configuration", "consumers/discovery/v2.0/keys"} {
			req, _ := http.NewRequest(http.MethodGet, e.authority+path, nil)
			resp, body := e.do(t, req)
			wantEntraError(t, resp, body, http.StatusBadRequest, "invalid_tenant", 90002)
		}
	})
}

func TestSSOTokenMatchesOfficeExample(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b, err := os.ReadFile("testdata/example-v2-access-token-payload.json")
	if err != nil {
		t.Fatal(err)
	}
	var example map[string]any
	if err := json.Unmarshal(b, &example); err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(maps.Keys(example))

	tests := []struct {
		upn       string
		wantRoles bool
	}{{alexUPN, false}, {adeleUPN, true}}
	for _, tc := range tests {
		t.Run(tc.upn, func(t *testing.T) {
			t.Parallel()
			tok, exp, err := e.s.IssueSSOToken(tc.upn, clientID)
			if err != nil || exp != time.Hour {
				t.Fatal(exp, err)
			}
			h, c := payload(t, tok, 0), payload(t, tok, 1)
			if h["typ"] != "JWT" || h["alg"] != "RS256" || h["kid"] == nil {
				t.Errorf("header %v", h)
			}
			got, want := slices.Sorted(maps.Keys(c)), want
			if tc.wantRoles {
				want = slices.Sorted(slices.Values(append(slices.Clone(want), "roles")))
			}
			if !slices.Equal(got, want) {
				t.Errorf("claims %v, want %v", got, want)
			}
			if c["aud"] != clientID || c["iss"] != e.authority+tenantID+"/v2.0" || c["scp"] != "access_as_user" ||
				c["azp"] != OfficeClientID || c["ver"] != "2.0" || c["preferred_username"] != tc.upn || c["tid"] != tenantID {
				t.Errorf("claims %v", c)
			}
			if _, err := e.s.VerifyAccessToken(tok, clientID); err != nil {
				t.Errorf("VerifyAccessToken: %v", err)
			}
			if _, err := e.s.VerifyAccessToken(tok, GraphAudience); err == nil {
				t.Error("VerifyAccessToken accepted the wrong audience")
			}
		})
	}
	if _, _, err := e.s.IssueSSOToken("nobody@contoso.example", clientID); err == nil {
		t.Error("IssueSSOToken accepted an unknown user")
	}
}

func TestVerifyAccessTokenRejects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	now := time.Now()
	base := jwt.MapClaims{"aud": clientID, "iss": e.authority + tenantID + "/v2.0", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := maps.Clone(base)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	tests := map[string]jwt.MapClaims{
		"expired":       with("exp", now.Add(-time.Minute).Unix()),
		"not yet valid": with("nbf", now.Add(time.Hour).Unix()),
		"no exp":        with("exp", nil),
		"wrong aud":     with("aud", otherClientID),
		"other issuer":  with("iss", "https://login.microsoftonline.com/"+tenantID+"/v2.0"),
	}
	good, _ := e.s.IssueToken(base)
	if _, err := e.s.VerifyAccessToken(good, clientID); err != nil {
		t.Fatalf("good token: %v", err)
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tok, err := e.s.IssueToken(c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.s.VerifyAccessToken(tok, clientID); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("alg none", func(t *testing.T) {
		t.Parallel()
		tok, _ := jwt.NewWithClaims(jwt.SigningMethodNone, base).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if _, err := e.s.VerifyAccessToken(tok, clientID); err == nil {
			t.Fatal("accepted alg none")
		}
	})
}

func TestOnBehalfOfWithSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	expired := func(t *testing.T) string {
		c := payload(t, e.sso(t, alexUPN, clientID), 1)
		c["exp"] = time.Now().Add(-time.Minute).Unix()
		tok, err := e.s.IssueToken(jwt.MapClaims(c))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	tests := []struct {
		name, tenant, secret string
		assertion            func(t *testing.T) string
		want                 []string // in the error; none means success
	}{
		{"good", tenantID, clientSecret, func(t *testing.T) string { return e.sso(t, adeleUPN, clientID) }, nil},
		{"tenant by domain", tenantDomain, clientSecret, func(t *testing.T) string { return e.sso(t, alexUPN, clientID) }, nil},
		{"wrong secret", tenantID, "guess", func(t *testing.T) string { return e.sso(t, alexUPN, clientID) }, []string{"invalid_client", "AADSTS7000215"}},
		{"expired assertion", tenantID, clientSecret, expired, []string{"invalid_grant", "AADSTS500133"}},
		{"assertion for another app", tenantID, clientSecret, func(t *testing.T) string { return e.sso(t, alexUPN, otherClientID) }, []string{"invalid_grant", "AADSTS500131"}},
		{"garbage assertion", tenantID, clientSecret, func(*testing.T) string { return "not-a-jwt" }, []string{"AADSTS50027"}},
		{"no consent", tenantID, clientSecret, func(t *testing.T) string { return e.sso(t, noConsentUPN, clientID) }, []string{"consent_required", "AADSTS65001"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cred, err := azidentity.NewOnBehalfOfCredentialWithSecret(tc.tenant, clientID, tc.assertion(t), tc.secret, e.oboOptions())
			if err != nil {
				t.Fatal(err)
			}
			tok, err := getToken(t, cred)
			if tc.want != nil {
				if err == nil {
					t.Fatal("GetToken succeeded")
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q: %v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.s.VerifyAccessToken(tok, GraphAudience)
			if err != nil {
				t.Fatal(err)
			}
			if c["iss"] != "https://sts.windows.net/"+tenantID+"/" || c["scp"] != GraphDelegatedScopes || c["appid"] != clientID ||
				c["appidacr"] != "1" || c["upn"] == nil || c["oid"] == nil || c["ver"] != "1.0" {
				t.Errorf("claims %v", c)
			}
		})
	}
}

func TestOnBehalfOfIsCachedByMSAL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cred, err := azidentity.NewOnBehalfOfCredentialWithSecret(tenantID, clientID, e.sso(t, alexUPN, clientID), clientSecret, e.oboOptions())
	if err != nil {
		t.Fatal(err)
	}
	first, err := getToken(t, cred)
	if err != nil {
		t.Fatal(err)
	}
	if h := e.s.Faults().Hits(RouteToken); h != 1 {
		t.Fatalf("token hits %d, want 1", h)
	}
	second, err := getToken(t, cred)
	if err != nil || second != first {
		t.Fatalf("second GetToken: %v (same token: %t)", err, second == first)
	}
	if h := e.s.Faults().Hits(RouteToken); h != 1 {
		t.Fatalf("token hits %d after a cached GetToken, want 1", h)
	}
}

func TestOnBehalfOfWithCertificate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name    string
		cert    certificate
		x5c     bool
		wantErr string
	}{
		{"registered", registeredCert(), false, ""},
		{"registered with x5c", registeredCert(), true, ""},
		{"unregistered", unregisteredCert(), false, "AADSTS700027"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := e.oboOptions()
			o.SendCertificateChain = tc.x5c
			cred, err := azidentity.NewOnBehalfOfCredentialWithCertificate(tenantID, clientID, e.sso(t, alexUPN, clientID),
				[]*x509.Certificate{tc.cert.cert}, tc.cert.key, o)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := getToken(t, cred)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c, err := e.s.VerifyAccessToken(tok, GraphAudience); err != nil || c["appidacr"] != "2" {
				t.Fatalf("%v %v", c, err)
			}
		})
	}
}

// TestClientAssertionChecks posts hand-made assertions: MSAL always makes
// good ones.
func TestClientAssertionChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cert := registeredCert()
	thumb := sha256.Sum256(cert.cert.Raw)
	now := time.Now()
	base := jwt.MapClaims{"aud": e.authority + tenantID + "/oauth2/v2.0/token", "iss": clientID, "sub": clientID,
		"jti": "1", "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	with := func(k string, v any) jwt.MapClaims { c := maps.Clone(base); c[k] = v; return c }
	tests := []struct {
		name   string
		claims jwt.MapClaims
		method jwt.SigningMethod
		status int
		aadsts int
	}{
		{"good RS256", base, jwt.SigningMethodRS256, 200, 0},
		{"good PS256", base, jwt.SigningMethodPS256, 200, 0},
		{"aud by domain", with("aud", e.authority+tenantDomain+"/oauth2/v2.0/token"), jwt.SigningMethodPS256, 200, 0},
		{"aud of another host", with("aud", "https://login.microsoftonline.com/"+tenantID+"/oauth2/v2.0/token"), jwt.SigningMethodPS256, 401, 700023},
		{"expired", with("exp", now.Add(-time.Minute).Unix()), jwt.SigningMethodPS256, 401, 700024},
		{"iss of another app", with("iss", otherClientID), jwt.SigningMethodPS256, 401, 700021},
		{"HS256", base, jwt.SigningMethodHS256, 401, 700027},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok := jwt.NewWithClaims(tc.method, tc.claims)
			tok.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(thumb[:])
			var key any = cert.key
			if tc.method == jwt.SigningMethodHS256 {
				key = []byte(clientSecret)
			}
			raw, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := e.post(t, tenantID, url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "scope": {graphDefault},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {raw}}, nil)
			if tc.status == 200 {
				if resp.StatusCode != 200 {
					t.Fatalf("got %d %v", resp.StatusCode, body)
				}
				return
			}
			wantEntraError(t, resp, body, tc.status, "invalid_client", tc.aadsts)
		})
	}
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	opts := &azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(-1), DisableInstanceDiscovery: true}
	secretCred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret, opts)
	if err != nil {
		t.Fatal(err)
	}
	cert := registeredCert()
	certCred, err := azidentity.NewClientCertificateCredential(tenantID, clientID, []*x509.Certificate{cert.cert}, cert.key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(-1), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	badCred, err := azidentity.NewClientSecretCredential(tenantID, clientID, "wrong", opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cred    azcore.TokenCredential
		acr     string
		wantErr string
	}{
		{"secret", secretCred, "1", ""},
		{"certificate", certCred, "2", ""},
		{"wrong secret", badCred, "", "AADSTS7000215"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := getToken(t, tc.cred)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.s.VerifyAccessToken(tok, GraphAudience)
			if err != nil {
				t.Fatal(err)
			}
			roles, _ := c["roles"].([]any)
			if !slices.Equal(roles, []any{"Calendars.ReadWrite", "User.Read.All"}) || c["idtyp"] != "app" || c["appidacr"] != tc.acr ||
				c["oid"] == nil || c["oid"] != c["sub"] || c["upn"] != nil || c["scp"] != nil {
				t.Errorf("claims %v", c)
			}
		})
	}
}

func TestTokenEndpointStrictness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sso := e.sso(t, alexUPN, clientID)
	cc := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {clientSecret}, "scope": {graphDefault}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	obo := func(kv ...string) url.Values {
		v := cc(append([]string{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion", sso,
			"requested_token_use", "on_behalf_of", "scope", graphDefault + " openid profile offline_access"}, kv...)...)
		return v
	}
	tests := []struct {
		name   string
		seg    string
		form   url.Values
		edit   func(*http.Request)
		status int
		err    string
		aadsts int
	}{
		{"GET", tenantID, cc(), func(r *http.Request) { r.Method = http.MethodGet }, 400, "invalid_request", 900561},
		{"JSON body", tenantID, cc(), func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }, 400, "invalid_request", 900144},
		{"unknown tenant", "fabrikam.example", cc(), nil, 400, "invalid_request", 90002},
		{"no grant_type", tenantID, cc("grant_type", ""), nil, 400, "invalid_request", 900144},
		{"password grant", tenantID, cc("grant_type", "password"), nil, 400, "unsupported_grant_type", 70003},
		{"no client_id", tenantID, cc("client_id", ""), nil, 400, "invalid_request", 900144},
		{"unknown client", tenantID, cc("client_id", "00000000-0000-0000-0000-000000000000"), nil, 400, "unauthorized_client", 700016},
		{"no credential", tenantID, cc("client_secret", ""), nil, 401, "invalid_client", 7000218},
		{"secret of another app", tenantID, cc("client_secret", "other-secret"), nil, 401, "invalid_client", 7000215},
		{"secret in query only", tenantID, cc("client_secret", ""), func(r *http.Request) { r.URL.RawQuery = "client_secret=" + url.QueryEscape(clientSecret) }, 401, "invalid_client", 7000218},
		{"public client presents secret", tenantID, cc("client_id", publicClientID), nil, 401, "invalid_client", 700025},
		{"public client OBO", tenantID, obo("client_id", publicClientID, "client_secret", ""), nil, 401, "invalid_client", 7000218},
		{"client credentials on organizations", "organizations", cc(), nil, 400, "invalid_request", 50059},
		{"client credentials without .default", tenantID, cc("scope", "https://graph.microsoft.com/User.Read.All"), nil, 400, "invalid_scope", 1002012},
		{"client credentials for unknown resource", tenantID, cc("scope", "https://fabrikam.example/.default"), nil, 400, "invalid_resource", 500011},
		{"OBO without assertion", tenantID, obo("assertion", ""), nil, 400, "invalid_request", 900144},
		{"OBO without requested_token_use", tenantID, obo("requested_token_use", ""), nil, 400, "invalid_request", 900144},
		{"OBO for two resources", tenantID, obo("scope", graphDefault+" "+appIDURI+"/access_as_user"), nil, 400, "invalid_scope", 28000},
		{"OBO .default with a named scope", tenantID, obo("scope", graphDefault+" https://graph.microsoft.com/User.Read"), nil, 400, "invalid_scope", 70011},
		{"OBO for an unconsented Graph scope", tenantID, obo("scope", "Mail.Send"), nil, 400, "invalid_grant", 65001},
		{"OBO for our own API", tenantID, obo("scope", appIDURI+"/.default"), nil, 400, "invalid_resource", 500011},
		{"OBO for no resource", tenantID, obo("scope", "openid profile"), nil, 400, "invalid_scope", 70011},
		{"OBO with an app token", tenantID, obo("assertion", mustIssue(t, e, jwt.MapClaims{"aud": clientID, "iss": e.authority + tenantID + "/v2.0",
			"exp": time.Now().Add(time.Hour).Unix(), "oid": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", "roles": []string{"x"}})), nil, 400, "invalid_grant", 50013},
		{"bad refresh token", tenantID, cc("grant_type", "refresh_token", "refresh_token", "nope"), nil, 400, "invalid_grant", 9002313},
		{"unknown code", tenantID, cc("grant_type", "authorization_code", "code", "nope", "redirect_uri", redirectURI, "code_verifier", strings.Repeat("a", 43)), nil, 400, "invalid_grant", 70000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := e.post(t, tc.seg, tc.form, tc.edit)
			wantEntraError(t, resp, body, tc.status, tc.err, tc.aadsts)
		})
	}
	t.Run("success headers and correlation", func(t *testing.T) {
		t.Parallel()
		resp, body := e.post(t, tenantID, cc(), nil)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store, no-cache" || body["token_type"] != "Bearer" ||
			body["expires_in"] != float64(3600) || body["ext_expires_in"] != float64(3600) || body["refresh_token"] != nil {
			t.Fatalf("%d %v %v", resp.StatusCode, resp.Header, body)
		}
		const corr = "0f0e0d0c-0b0a-4908-8706-050403020100"
		resp, body = e.post(t, tenantID, cc("client_secret", "x"), func(r *http.Request) { r.Header.Set("client-request-id", corr) })
		if body["correlation_id"] != corr || resp.Header.Get("Cache-Control") != "no-store, no-cache" {
			t.Fatalf("%v %v", resp.Header, body)
		}
	})
	t.Run("client_secret_basic", func(t *testing.T) {
		t.Parallel()
		resp, body := e.post(t, tenantID, cc("client_id", "", "client_secret", ""), func(r *http.Request) {
			r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
		})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
}

func mustIssue(t *testing.T, e *env, c jwt.MapClaims) string {
	t.Helper()
	tok, err := e.s.IssueToken(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	verifier = randomString(32, base64.RawURLEncoding)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorize runs GET authorize and returns the redirect's parameters (nil
// and the response when it did not redirect).
func (e *env) authorize(t *testing.T, q url.Values) (url.Values, *http.Response) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.authority+tenantID+"/oauth2/v2.0/authorize?"+q.Encode(), nil)
	resp, _ := e.do(t, req)
	return redirectParams(t, resp), resp
}

func redirectParams(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		return nil
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Scheme+"://"+loc.Host+loc.Path != redirectURI {
		t.Fatalf("redirected to %s", loc)
	}
	return loc.Query()
}

func authorizeQuery(challenge string, kv ...string) url.Values {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"},
		"scope": {"openid profile offline_access " + appIDURI + "/access_as_user"}, "state": {"st-1"}, "nonce": {"n-1"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "login_hint": {adeleUPN}}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

func redeem(code, verifier string, kv ...string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {clientID}, "client_secret": {clientSecret},
		"code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			f.Del(kv[i])
		} else {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("good path and refresh", func(t *testing.T) {
		t.Parallel()
		verifier, challenge := pkce()
		p, resp := e.authorize(t, authorizeQuery(challenge))
		if p == nil || p.Get("code") == "" || p.Get("state") != "st-1" {
			t.Fatalf("authorize: %d %v", resp.StatusCode, p)
		}
		resp, body := e.post(t, tenantID, redeem(p.Get("code"), verifier), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		id, err := e.s.VerifyAccessToken(body["id_token"].(string), clientID)
		if err != nil || id["nonce"] != "n-1" || id["preferred_username"] != adeleUPN || id["oid"] == nil || id["tid"] != tenantID {
			t.Fatalf("id token %v %v", id, err)
		}
		if roles, _ := id["roles"].([]any); len(roles) != 1 || roles[0] != "WebScheduler.Admin" {
			t.Errorf("id token roles %v", id["roles"])
		}
		at, err := e.s.VerifyAccessToken(body["access_token"].(string), clientID)
		if err != nil || at["scp"] != "access_as_user" || at["azp"] != clientID || at["ver"] != "2.0" {
			t.Fatalf("access token %v %v", at, err)
		}
		if body["scope"] != appIDURI+"/access_as_user openid profile offline_access" || body["refresh_token"] == nil {
			t.Errorf("response %v", body)
		}

		// The refresh token also buys a Graph token: v2.0 refresh tokens span resources.
		resp, body = e.post(t, tenantID, url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {clientSecret},
			"refresh_token": {body["refresh_token"].(string)}, "scope": {"https://graph.microsoft.com/User.Read openid"}}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("refresh: %d %v", resp.StatusCode, body)
		}
		if c, err := e.s.VerifyAccessToken(body["access_token"].(string), GraphAudience); err != nil || c["upn"] != adeleUPN {
			t.Fatalf("graph token %v %v", c, err)
		}
		if id := payload(t, body["id_token"].(string), 1); id["nonce"] != nil {
			t.Errorf("refreshed id token has a nonce: %v", id)
		}
	})

	t.Run("sign-in page", func(t *testing.T) {
		t.Parallel()
		verifier, challenge := pkce()
		req, _ := http.NewRequest(http.MethodGet, e.authority+tenantID+"/oauth2/v2.0/authorize?"+authorizeQuery(challenge, "login_hint", "").Encode(), nil)
		resp, err := e.noRedirects().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		action := `action="/sandbox/entra/` + tenantID + `/oauth2/v2.0/authorize"`
		if resp.StatusCode != 200 || !strings.Contains(string(page), alexUPN) || !strings.Contains(string(page), `name="emuentra_user"`) ||
			!strings.Contains(string(page), action) {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
		// Submit the page's form as a browser would, choosing Alex.
		form := authorizeQuery(challenge, "login_hint", "")
		form.Set("emuentra_user", alexUPN)
		req, _ = http.NewRequest(http.MethodPost, e.authority+tenantID+"/oauth2/v2.0/authorize", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ = e.do(t, req)
		p := redirectParams(t, resp)
		if p == nil {
			t.Fatalf("no redirect: %d", resp.StatusCode)
		}
		_, body := e.post(t, tenantID, redeem(p.Get("code"), verifier), nil)
		if id := payload(t, body["id_token"].(string), 1); id["preferred_username"] != alexUPN {
			t.Fatalf("signed in %v", id)
		}
	})

	t.Run("public client needs no secret", func(t *testing.T) {
		t.Parallel()
		verifier, challenge := pkce()
		q := authorizeQuery(challenge, "client_id", publicClientID, "redirect_uri", "http://localhost/callback", "scope", "openid User.Read")
		req, _ := http.NewRequest(http.MethodGet, e.authority+tenantID+"/oauth2/v2.0/authorize?"+q.Encode(), nil)
		resp, _ := e.do(t, req)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		resp, body := e.post(t, tenantID, redeem(loc.Query().Get("code"), verifier, "client_id", publicClientID, "client_secret", "",
			"redirect_uri", "http://localhost/callback"), nil)
		if resp.StatusCode != 200 || body["scope"] != GraphDelegatedScopes+" openid" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})

	redeemFailures := []struct {
		name   string
		form   func(code, verifier string) url.Values
		err    string
		aadsts int
	}{
		{"missing verifier", func(c, _ string) url.Values { return redeem(c, "", "code_verifier", "") }, "invalid_request", 900144},
		{"wrong verifier", func(c, _ string) url.Values { v, _ := pkce(); return redeem(c, v) }, "invalid_grant", 501481},
		{"challenge as verifier", func(c, v string) url.Values {
			sum := sha256.Sum256([]byte(v))
			return redeem(c, base64.RawURLEncoding.EncodeToString(sum[:]))
		}, "invalid_grant", 501481},
		{"other redirect_uri", func(c, v string) url.Values { return redeem(c, v, "redirect_uri", "https://app.example/other") }, "invalid_grant", 500112},
		{"other client", func(c, v string) url.Values {
			return redeem(c, v, "client_id", otherClientID, "client_secret", "other-secret")
		}, "invalid_grant", 70000},
		{"wrong secret", func(c, v string) url.Values { return redeem(c, v, "client_secret", "nope") }, "invalid_client", 7000215},
	}
	for _, tc := range redeemFailures {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verifier, challenge := pkce()
			p, _ := e.authorize(t, authorizeQuery(challenge))
			resp, body := e.post(t, tenantID, tc.form(p.Get("code"), verifier), nil)
			status := http.StatusBadRequest
			if tc.err == "invalid_client" {
				status = http.StatusUnauthorized
			}
			wantEntraError(t, resp, body, status, tc.err, tc.aadsts)
			// A failed redemption does not burn the code.
			if resp, body := e.post(t, tenantID, redeem(p.Get("code"), verifier), nil); resp.StatusCode != 200 {
				t.Fatalf("good redemption after failure: %d %v", resp.StatusCode, body)
			}
		})
	}

	t.Run("reused code", func(t *testing.T) {
		t.Parallel()
		verifier, challenge := pkce()
		p, _ := e.authorize(t, authorizeQuery(challenge))
		if resp, body := e.post(t, tenantID, redeem(p.Get("code"), verifier), nil); resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		resp, body := e.post(t, tenantID, redeem(p.Get("code"), verifier), nil)
		wantEntraError(t, resp, body, 400, "invalid_grant", 54005)
	})

	authorizeFailures := []struct {
		name string
		q    func(challenge string) url.Values
		err  string
	}{
		{"plain challenge method", func(c string) url.Values { return authorizeQuery(c, "code_challenge_method", "plain") }, "invalid_request"},
		{"no challenge method", func(c string) url.Values { return authorizeQuery(c, "code_challenge_method", "") }, "invalid_request"},
		{"no challenge", func(string) url.Values { return authorizeQuery("", "code_challenge", "") }, "invalid_request"},
		{"short challenge", func(string) url.Values { return authorizeQuery("abc") }, "invalid_request"},
		{"implicit id_token", func(c string) url.Values { return authorizeQuery(c, "response_type", "id_token") }, "unsupported_response_type"},
		{"unknown resource", func(c string) url.Values { return authorizeQuery(c, "scope", "openid https://fabrikam.example/read") }, "invalid_resource"},
		{"unknown scope of our API", func(c string) url.Values { return authorizeQuery(c, "scope", appIDURI+"/write") }, "invalid_scope"},
		{"unconsented Graph scope", func(c string) url.Values { return authorizeQuery(c, "scope", "openid Mail.Send") }, "consent_required"},
		{"prompt none without user", func(c string) url.Values { return authorizeQuery(c, "login_hint", "", "prompt", "none") }, "login_required"},
	}
	for _, tc := range authorizeFailures {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, challenge := pkce()
			p, resp := e.authorize(t, tc.q(challenge))
			if p == nil || p.Get("error") != tc.err || p.Get("code") != "" || p.Get("state") != "st-1" || !strings.HasPrefix(p.Get("error_description"), "AADSTS") {
				t.Fatalf("%d %v", resp.StatusCode, p)
			}
		})
	}

	pageFailures := map[string]url.Values{
		"unregistered redirect_uri": authorizeQuery("x", "redirect_uri", "https://evil.example/callback"),
		"unknown client":            authorizeQuery("x", "client_id", "00000000-0000-0000-0000-000000000000"),
		"no client":                 authorizeQuery("x", "client_id", ""),
	}
	for name, q := range pageFailures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, resp := e.authorize(t, q)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Fatalf("%d %v", resp.StatusCode, resp.Header)
			}
		})
	}
}

// TestOIDCLibrary signs in with go-oidc and x/oauth2 as the web sign-in
// does: discovery by issuer, PKCE, client_secret_basic, ID token
// verification against the JWKS, and a refresh.
func TestOIDCLibrary(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := oidc.ClientContext(context.Background(), e.ts.Client())
	provider, err := oidc.NewProvider(ctx, e.authority+tenantID+"/v2.0")
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: clientID, ClientSecret: clientSecret, Endpoint: provider.Endpoint(), RedirectURL: redirectURI,
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, appIDURI + "/access_as_user"}}
	verifier := oauth2.GenerateVerifier()
	req, _ := http.NewRequest(http.MethodGet, conf.AuthCodeURL("state-x", oidc.Nonce("nonce-x"), oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("login_hint", adeleUPN)), nil)
	resp, _ := e.do(t, req)
	p := redirectParams(t, resp)
	if p.Get("state") != "state-x" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, p)
	}
	tok, err := conf.Exchange(ctx, p.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		PreferredUsername string   `json:"preferred_username"`
		Roles             []string `json:"roles"`
	}
	if err := idt.Claims(&claims); err != nil || idt.Nonce != "nonce-x" || claims.PreferredUsername != adeleUPN ||
		!slices.Equal(claims.Roles, []string{"WebScheduler.Admin"}) {
		t.Fatalf("id token %+v %+v %v", idt, claims, err)
	}
	if _, err := e.s.VerifyAccessToken(tok.AccessToken, clientID); err != nil {
		t.Fatal(err)
	}
	tok.Expiry = time.Now().Add(-time.Minute) // x/oauth2 refreshes without sending scope
	refreshed, err := conf.TokenSource(ctx, tok).Token()
	if err != nil || refreshed.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	if c, err := e.s.VerifyAccessToken(refreshed.AccessToken, clientID); err != nil || c["scp"] != "access_as_user" {
		t.Fatalf("refreshed token %v %v", c, err)
	}
}

func TestAuthorizationCodeExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	verifier, challenge := pkce()
	p, _ := e.authorize(t, authorizeQuery(challenge))
	e.clock.Advance(5*time.Minute + time.Second)
	resp, body := e.post(t, tenantID, redeem(p.Get("code"), verifier), nil)
	wantEntraError(t, resp, body, 400, "invalid_grant", 70008)
}

func TestResponseModes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, challenge := pkce()
	_, resp := e.authorize(t, authorizeQuery(challenge, "response_mode", "fragment"))
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, redirectURI+"#code=") {
		t.Errorf("fragment: %q", loc)
	}
	req, _ := http.NewRequest(http.MethodGet, e.authority+tenantID+"/oauth2/v2.0/authorize?"+authorizeQuery(challenge, "response_mode", "form_post").Encode(), nil)
	r, err := e.noRedirects().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !strings.Contains(string(page), `action="`+redirectURI+`"`) || !strings.Contains(string(page), `name="code"`) {
		t.Errorf("form_post: %d %s", r.StatusCode, page)
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kids := func() []string {
		req, _ := http.NewRequest(http.MethodGet, e.authority+tenantID+"/discovery/v2.0/keys", nil)
		_, body := e.do(t, req)
		var out []string
		for _, k := range body["keys"].([]any) {
			out = append(out, k.(map[string]any)["kid"].(string))
		}
		return out
	}
	oldTok := e.sso(t, alexUPN, clientID)
	oldKID := payload(t, oldTok, 0)["kid"].(string)
	newKID := e.s.RotateKeys()
	newTok := e.sso(t, alexUPN, clientID)
	if got := payload(t, newTok, 0)["kid"]; got != newKID || newKID == oldKID {
		t.Fatalf("new token kid %v, rotated to %s from %s", got, newKID, oldKID)
	}
	if got := kids(); !slices.Equal(got, []string{oldKID, newKID}) {
		t.Fatalf("JWKS kids %v", got)
	}
	for _, tok := range []string{oldTok, newTok} {
		if _, err := e.s.VerifyAccessToken(tok, clientID); err != nil {
			t.Fatalf("before retirement: %v", err)
		}
	}
	e.s.RetireKey(oldKID)
	if got := kids(); !slices.Equal(got, []string{newKID}) {
		t.Fatalf("JWKS kids after retirement %v", got)
	}
	if _, err := e.s.VerifyAccessToken(oldTok, clientID); err == nil {
		t.Fatal("token of a retired key verified")
	}
	// On-behalf-of refuses an assertion signed by the retired key.
	resp, body := e.post(t, tenantID, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "client_id": {clientID},
		"client_secret": {clientSecret}, "assertion": {oldTok}, "requested_token_use": {"on_behalf_of"}, "scope": {graphDefault}}, nil)
	wantEntraError(t, resp, body, 400, "invalid_grant", 50013)
	e.s.RetireKey(newKID) // the last key stays
	if got := kids(); !slices.Equal(got, []string{newKID}) {
		t.Fatalf("the last key was retired: %v", got)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	newCred := func(t *testing.T, e *env, retries int32) azcore.TokenCredential {
		cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(retries), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		return cred
	}

	t.Run("azidentity retries a 503 itself", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.s.Faults().Set(RouteToken, fault.Fault{Status: http.StatusServiceUnavailable, Times: 1})
		if _, err := getToken(t, newCred(t, e, 2)); err != nil {
			t.Fatal(err)
		}
		if h := e.s.Faults().Hits(RouteToken); h != 2 {
			t.Fatalf("token hits %d, want 2 (one 503, one retry)", h)
		}
	})

	t.Run("without retries a 503 fails", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.s.Faults().Set(RouteToken, fault.Fault{Status: http.StatusServiceUnavailable})
		_, err := getToken(t, newCred(t, e, -1))
		var afe *azidentity.AuthenticationFailedError
		if !errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != 503 || !strings.Contains(err.Error(), "temporarily_unavailable") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("429 carries Retry-After and Entra's error body", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.s.Faults().Set(RouteToken, fault.Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: 1})
		resp, body := e.post(t, tenantID, url.Values{}, nil)
		if resp.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
		}
		wantEntraError(t, resp, body, 429, "temporarily_unavailable", 90055)
	})

	// azcore honours Retry-After, but gives up at once when it exceeds MaxRetryDelay.
	for _, tc := range []struct {
		maxDelay time.Duration
		wantHits int
	}{{2 * time.Second, 2}, {10 * time.Millisecond, 1}} {
		t.Run("429 with Retry-After 1s, MaxRetryDelay "+tc.maxDelay.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.s.Faults().Set(RouteToken, fault.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 1})
			o := e.clientOptions(1)
			o.Retry.MaxRetryDelay = tc.maxDelay
			cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret,
				&azidentity.ClientSecretCredentialOptions{ClientOptions: o, DisableInstanceDiscovery: true})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = getToken(t, cred)
			if h := e.s.Faults().Hits(RouteToken); h != tc.wantHits || (err == nil) != (tc.wantHits == 2) {
				t.Fatalf("token hits %d, error %v", h, err)
			}
			if tc.wantHits == 2 && time.Since(start) < time.Second {
				t.Fatalf("retried after %v", time.Since(start))
			}
		})
	}

	t.Run("a broken discovery stops azidentity", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.s.Faults().Set(RouteDiscovery, fault.Fault{Status: http.StatusInternalServerError})
		if _, err := getToken(t, newCred(t, e, -1)); err == nil {
			t.Fatal("GetToken succeeded")
		}
		if e.s.Faults().Hits(RouteToken) != 0 {
			t.Fatal("token endpoint reached without discovery")
		}
	})
}

// TestAzidentityDropsTheAuthorityPath pins a fact about MSAL that shapes how
// the emulator must be mounted: azidentity passes the credential's tenant to
// MSAL on every request, and MSAL, finding it differs from the authority's
// first path segment ("sandbox"), rebuilds the authority as
// https://host/{tenant}, dropping the path. So discovery is fetched from the
// root; the token endpoint it names keeps the prefix.
func TestAzidentityDropsTheAuthorityPath(t *testing.T) {
	t.Parallel()
	t.Run("prefix only", func(t *testing.T) {
		t.Parallel()
		e := newEnvMounted(t, false)
		cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(-1), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = getToken(t, cred)
		want := "GET " + e.ts.URL + "/" + tenantID + "/v2.0/.well-known/openid-configuration"
		if err == nil || !strings.Contains(err.Error(), want) || e.s.Faults().Hits(RouteDiscovery) != 0 {
			t.Fatalf("MSAL no longer drops the authority's path? got %v", err)
		}
	})
	t.Run("prefix and root", func(t *testing.T) {
		t.Parallel()
		e := newEnvMounted(t, true)
		cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: e.clientOptions(-1), DisableInstanceDiscovery: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := getToken(t, cred); err != nil {
			t.Fatal(err)
		}
		want := []string{"/" + tenantID + "/v2.0/.well-known/openid-configuration", "/sandbox/entra/" + tenantID + "/oauth2/v2.0/token"}
		if got := e.requestPaths(); !slices.Equal(got, want) {
			t.Fatalf("paths %v, want %v", got, want)
		}
	})
}
