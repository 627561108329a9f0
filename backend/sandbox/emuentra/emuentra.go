// Package emuentra emulates the Microsoft Entra ID v2.0 endpoints (OpenID
// discovery, signing keys, authorize, token) for the sandbox and for tests.
//
// The real clients run against it unmodified: MSAL through azidentity
// (on-behalf-of and client credentials, with a secret or a certificate) and
// an OpenID Connect library for authorization code with PKCE. It is strict on
// purpose: it checks what it receives and rejects what Entra ID rejects, with
// Entra's error JSON and AADSTS codes, so our client code cannot pass by
// agreeing with a lenient fake.
package emuentra

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" // #nosec G505 -- x5t is defined as a SHA-1 thumbprint
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// Route names for the fault injector, so tests can break or count one
// endpoint at a time.
const (
	RouteDiscovery = "discovery"
	RouteKeys      = "keys"
	RouteToken     = "token"
	RouteAuthorize = "authorize"
	RouteLogout    = "logout"
)

const (
	// GraphAudience is the aud of every Graph token this server issues; the
	// emulated Graph passes it to VerifyAccessToken.
	GraphAudience = "https://graph.microsoft.com"
	// GraphDelegatedScopes is the scp of delegated Graph tokens: the fixed set
	// of permissions the tenant has consented to for every app.
	GraphDelegatedScopes = "Calendars.ReadWrite Calendars.ReadWrite.Shared OnlineMeetings.ReadWrite User.Read User.ReadBasic.All MailboxSettings.Read"
	// GraphAppRoles are the roles of app-only Graph tokens (space separated).
	GraphAppRoles = "Calendars.ReadWrite User.Read.All"
	// OfficeClientID is the azp of SSO tokens: Office's own client, which is
	// who really asks Entra ID for the add-in's token.
	OfficeClientID = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
	// SSOScope is the delegated scope of the add-in's API in SSO tokens.
	SSOScope = "access_as_user"

	graphAppID   = "00000003-0000-0000-c000-000000000000"
	codeLifetime = 5 * time.Minute
	// rtLifetime is shorter than Entra's 90 days so that a long-running
	// sandbox does not pile up refresh tokens (MSAL asks for one on every
	// on-behalf-of request).
	rtLifetime = 24 * time.Hour
)

// User is a seeded account of the tenant.
type User struct {
	OID, UPN, Name string
	// Roles are app roles of our app (e.g. "WebScheduler.Admin"), carried in
	// the roles claim of tokens for it.
	Roles []string
	// NoConsent makes on-behalf-of for this user fail with consent_required
	// (AADSTS65001), as when nobody consented to Graph for the app.
	NoConsent bool
}

// App is an app registration.
type App struct {
	ClientID string
	// Name is the display name, shown on the sign-in page and in tokens.
	Name string
	// Secret and CertDER are the app's credentials; an app with neither is a
	// public client, which must not authenticate and cannot use OBO or client
	// credentials.
	Secret  string
	CertDER []byte // public certificate for client assertions
	// RedirectURIs are the registered reply URLs, matched exactly.
	RedirectURIs []string
	// AppIDURI identifies the app's API in scopes and SSO token audiences,
	// e.g. "api://localhost:8080/<clientid>".
	AppIDURI string
}

// Options configure a Server.
type Options struct {
	// AuthorityURL is the externally visible authority host including any
	// path prefix, e.g. "https://127.0.0.1:8443/sandbox/entra/". MSAL only
	// accepts https; for a path prefix, see Handler.
	AuthorityURL string
	// TenantID is the tenant GUID.
	TenantID string
	// TenantDomain (e.g. "contoso.example") is accepted wherever the GUID is,
	// as are "organizations" and "common".
	TenantDomain string
	Apps         []App
	Users        []User
	// Faults breaks routes on demand; nil makes a fresh injector.
	Faults *fault.Injector
	// Now is the clock of issued tokens and validation; nil is time.Now.
	Now func() time.Time
	// TokenLifetime of access and ID tokens; 0 is one hour.
	TokenLifetime time.Duration
}

// Server is an emulated Entra ID tenant. It is safe for concurrent use.
type Server struct {
	authority string // with trailing slash
	tid       string
	domain    string
	lifetime  time.Duration
	now       func() time.Time
	faults    *fault.Injector
	apps      map[string]*app  // by lower-case client ID
	users     map[string]*User // by lower-case OID
	userList  []*User          // in seeding order, for the sign-in page
	mux       *http.ServeMux

	mu      sync.Mutex
	keys    []*signingKey // published; the last one signs
	codes   map[string]*authCode
	refresh map[string]*userGrant
}

// app is a registration with its certificate parsed once.
type app struct {
	App
	certKey        crypto.PublicKey
	sha1, sha256   []byte // thumbprints of CertDER
	servicePrinOID string
}

func (a *app) public() bool { return a.Secret == "" && a.CertDER == nil }

// New checks the options and makes a server with one signing key.
func New(o Options) (*Server, error) {
	u, err := url.Parse(o.AuthorityURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("emuentra: AuthorityURL %q must be an absolute http(s) URL", o.AuthorityURL)
	}
	if !isGUID(o.TenantID) {
		return nil, fmt.Errorf("emuentra: TenantID %q is not a GUID", o.TenantID)
	}
	s := &Server{
		authority: strings.TrimSuffix(o.AuthorityURL, "/") + "/",
		tid:       strings.ToLower(o.TenantID),
		domain:    strings.ToLower(o.TenantDomain),
		lifetime:  o.TokenLifetime,
		now:       o.Now,
		faults:    o.Faults,
		apps:      map[string]*app{},
		users:     map[string]*User{},
		codes:     map[string]*authCode{},
		refresh:   map[string]*userGrant{},
	}
	if s.lifetime <= 0 {
		s.lifetime = time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.faults == nil {
		s.faults = fault.New()
	}
	for _, a := range o.Apps {
		if !isGUID(a.ClientID) || s.apps[strings.ToLower(a.ClientID)] != nil {
			return nil, fmt.Errorf("emuentra: app client ID %q is not a GUID or is repeated", a.ClientID)
		}
		reg := &app{App: a, servicePrinOID: guidFrom("sp:" + strings.ToLower(a.ClientID))}
		reg.ClientID = strings.ToLower(a.ClientID)
		reg.RedirectURIs = slices.Clone(a.RedirectURIs)
		if a.CertDER != nil {
			cert, err := x509.ParseCertificate(a.CertDER)
			if err != nil {
				return nil, fmt.Errorf("emuentra: app %s: %w", a.ClientID, err)
			}
			s1, s256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw) // #nosec G401
			reg.certKey, reg.sha1, reg.sha256 = cert.PublicKey, s1[:], s256[:]
		}
		s.apps[reg.ClientID] = reg
	}
	for _, usr := range o.Users {
		if !isGUID(usr.OID) || usr.UPN == "" || s.users[strings.ToLower(usr.OID)] != nil || s.userByUPN(usr.UPN) != nil {
			return nil, fmt.Errorf("emuentra: user %q needs a unique GUID OID and UPN", usr.UPN)
		}
		u := usr
		u.OID = strings.ToLower(u.OID)
		u.Roles = slices.Clone(usr.Roles)
		s.users[u.OID] = &u
		s.userList = append(s.userList, &u)
	}
	k, err := newSigningKey(s.now())
	if err != nil {
		return nil, err
	}
	s.keys = []*signingKey{k}
	s.mux = s.routes()
	return s, nil
}

// Handler serves the endpoints at paths relative to the authority URL's
// path, so mount it with http.StripPrefix: for the authority
// "https://host/sandbox/entra/", use
// http.StripPrefix("/sandbox/entra", s.Handler()). It then sees
// "/{tenant}/v2.0/.well-known/openid-configuration",
// "/{tenant}/discovery/v2.0/keys", "/{tenant}/oauth2/v2.0/token",
// "/{tenant}/oauth2/v2.0/authorize" and "/{tenant}/oauth2/v2.0/logout".
//
// azidentity does not keep a path prefix: it hands MSAL the credential's
// tenant on every request, and MSAL, seeing that it differs from the
// authority's first path segment, rebuilds the authority as
// https://host/{tenant} and fetches discovery from the root. So with a
// prefix, also mount the handler at the root of the host (or give the
// emulator a host of its own). The endpoints in the discovery document keep
// the prefix, so everything after discovery goes through it.
func (s *Server) Handler() http.Handler { return s.mux }

// Faults returns the injector wrapping every route, to break or count them.
func (s *Server) Faults() *fault.Injector { return s.faults }

func (s *Server) routes() *http.ServeMux {
	m := http.NewServeMux()
	handle := func(pattern, route string, h http.HandlerFunc) {
		m.Handle(pattern, s.faults.Wrap(route, h, s.writeFault))
	}
	handle("GET /{tenant}/v2.0/.well-known/openid-configuration", RouteDiscovery, s.discovery)
	handle("GET /{tenant}/discovery/v2.0/keys", RouteKeys, s.jwks)
	// Every method reaches the token handler, which answers non-POST
	// requests with Entra's AADSTS900561 rather than a bare 405.
	handle("/{tenant}/oauth2/v2.0/token", RouteToken, s.token)
	handle("GET /{tenant}/oauth2/v2.0/authorize", RouteAuthorize, s.authorize)
	handle("POST /{tenant}/oauth2/v2.0/authorize", RouteAuthorize, s.authorize)
	handle("GET /{tenant}/oauth2/v2.0/logout", RouteLogout, s.logout)
	return m
}

// --- tenant naming ---

// v2Issuer is the issuer of v2.0 tokens and of the tenant's discovery document.
func (s *Server) v2Issuer() string { return s.authority + s.tid + "/v2.0" }

// v1Issuer is the issuer of v1.0 tokens, which is what Graph tokens are.
func (s *Server) v1Issuer() string { return "https://sts.windows.net/" + s.tid + "/" }

// resolveTenant says whether a path's tenant segment names this tenant, and
// whether it is one of the multi-tenant aliases. "consumers" (personal
// Microsoft accounts) is not emulated.
func (s *Server) resolveTenant(seg string) (ok, multi bool) {
	switch strings.ToLower(seg) {
	case s.tid:
		return true, false
	case "organizations", "common":
		return true, true
	case "":
		return false, false
	case s.domain:
		return true, false
	}
	return false, false
}

func (s *Server) tenantNotFound(seg string) *stsError {
	return &stsError{status: http.StatusBadRequest, err: "invalid_tenant", code: 90002,
		msg: fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", seg)}
}

// --- discovery and keys ---

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	ok, multi := s.resolveTenant(seg)
	if !ok {
		s.fail(w, r, s.tenantNotFound(seg))
		return
	}
	// Like Entra, a tenant's document names its GUID in every endpoint,
	// whichever alias was asked for; that also spares MSAL's "{tenant}"
	// substitution, which would use the first segment of a prefixed path.
	base, issuer, region := s.authority+s.tid+"/", s.v2Issuer(), any("NA")
	if multi {
		base, issuer, region = s.authority+strings.ToLower(seg)+"/", s.authority+"{tenantid}/v2.0", nil
	}
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "oauth2/v2.0/authorize",
		"token_endpoint":                        base + "oauth2/v2.0/token",
		"end_session_endpoint":                  base + "oauth2/v2.0/logout",
		"jwks_uri":                              base + "discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"request_uri_parameter_supported": false,
		"userinfo_endpoint":               "https://graph.microsoft.com/oidc/userinfo",
		"http_logout_supported":           true,
		"frontchannel_logout_supported":   true,
		"tenant_region_scope":             region,
		"cloud_instance_name":             "microsoftonline.com",
		"cloud_graph_host_name":           "graph.windows.net",
		"msgraph_host":                    "graph.microsoft.com",
		"rbac_url":                        "https://pas.windows.net",
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	ok, multi := s.resolveTenant(seg)
	if !ok {
		s.fail(w, r, s.tenantNotFound(seg))
		return
	}
	issuer := s.v2Issuer()
	if multi {
		issuer = s.authority + "{tenantid}/v2.0"
	}
	s.mu.Lock()
	keys := make([]map[string]any, 0, len(s.keys))
	for _, k := range s.keys {
		pub := k.priv.PublicKey
		keys = append(keys, map[string]any{
			"kty":    "RSA",
			"use":    "sig",
			"kid":    k.kid,
			"x5t":    k.kid,
			"n":      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e":      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			"x5c":    []string{base64.StdEncoding.EncodeToString(k.cert)},
			"issuer": issuer,
		})
	}
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// --- signing keys ---

// signingKey is an RSA key with the self-signed certificate Entra publishes
// in x5c.
type signingKey struct {
	kid  string // also the x5t: base64url SHA-1 of the certificate, as in Entra's keys
	priv *rsa.PrivateKey
	cert []byte
}

func newSigningKey(now time.Time) (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "accounts.accesscontrol.windows.net"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(5, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(der) // #nosec G401
	return &signingKey{kid: base64.RawURLEncoding.EncodeToString(sum[:]), priv: priv, cert: der}, nil
}

// RotateKeys makes a new RSA-2048 key the signing key and returns its kid;
// the old keys stay published, as during Entra's key rollover. It panics
// only if the system's random source fails.
func (s *Server) RotateKeys() (newKID string) {
	k, err := newSigningKey(s.now())
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
	return k.kid
}

// RetireKey removes a key from the JWKS, so tokens signed with it stop
// verifying. Retiring the signing key makes the newest remaining key sign;
// the last key is never removed, so the server can always sign.
func (s *Server) RetireKey(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.keys) > 1 {
		s.keys = slices.DeleteFunc(s.keys, func(k *signingKey) bool { return k.kid == kid })
	}
}

// publicKey finds a published key for a token's kid.
func (s *Server) publicKey(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range s.keys {
		if k.kid == kid {
			return &k.priv.PublicKey, nil
		}
	}
	return nil, fmt.Errorf("emuentra: no published key has kid %q", kid)
}

// sign signs claims with the active key; v1 tokens also carry x5t in their
// header, as Entra's do.
func (s *Server) sign(claims jwt.MapClaims, v1 bool) (string, error) {
	s.mu.Lock()
	k := s.keys[len(s.keys)-1]
	s.mu.Unlock()
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = k.kid
	if v1 {
		t.Header["x5t"] = k.kid
	}
	return t.SignedString(k.priv)
}

// --- tokens ---

// IssueSSOToken returns what Office's getAccessToken hands an add-in for
// user upn: a v2.0 access token for the app clientID with scope
// access_as_user, requested by Office's own client (azp).
func (s *Server) IssueSSOToken(upn, clientID string) (token string, expiresIn time.Duration, err error) {
	u := s.userByUPN(upn)
	a := s.apps[strings.ToLower(clientID)]
	if u == nil || a == nil {
		return "", 0, fmt.Errorf("emuentra: unknown user %q or app %q", upn, clientID)
	}
	token, err = s.sign(s.apiClaims(u, a, OfficeClientID, "0"), false)
	return token, s.lifetime, err
}

// IssueToken signs arbitrary claims with the active key, for negative tests
// of token validators (expired, wrong audience, ...).
func (s *Server) IssueToken(claims jwt.MapClaims) (string, error) {
	return s.sign(claims, false)
}

// VerifyAccessToken checks a token this server issued: RS256 with a
// published key, exp and nbf, this tenant's v1 or v2 issuer, and audience.
// The emulated Graph uses it on the tokens it receives.
func (s *Server) VerifyAccessToken(raw, audience string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, s.publicKey,
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithTimeFunc(s.now))
	if err != nil {
		return nil, err
	}
	if iss, _ := claims["iss"].(string); iss != s.v2Issuer() && iss != s.v1Issuer() {
		return nil, fmt.Errorf("emuentra: issuer %q is not this tenant's", iss)
	}
	return claims, nil
}

// timeClaims are the claims every token starts with.
func (s *Server) timeClaims(iss, aud string) jwt.MapClaims {
	now := s.now()
	return jwt.MapClaims{
		"aud": aud, "iss": iss,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.lifetime).Unix(),
		"aio": randomString(54, base64.StdEncoding), "uti": randomString(16, base64.RawURLEncoding),
	}
}

// apiClaims are a v2.0 access token for the API of app res, requested by
// client azp: the shape of Office's SSO token.
func (s *Server) apiClaims(u *User, res *app, azp, azpacr string) jwt.MapClaims {
	c := s.timeClaims(s.v2Issuer(), res.ClientID)
	c["azp"], c["azpacr"], c["e_exp"] = azp, azpacr, 262800
	c["name"], c["oid"], c["preferred_username"] = u.Name, u.OID, u.UPN
	c["scp"], c["sub"], c["tid"], c["ver"] = SSOScope, pairwiseSub(u.OID, res.ClientID), s.tid, "2.0"
	if len(u.Roles) > 0 {
		c["roles"] = slices.Clone(u.Roles)
	}
	return c
}

// idClaims are an ID token for client clientID.
func (s *Server) idClaims(u *User, clientID, nonce string) jwt.MapClaims {
	c := s.timeClaims(s.v2Issuer(), clientID)
	c["name"], c["oid"], c["preferred_username"] = u.Name, u.OID, u.UPN
	c["sub"], c["tid"], c["ver"] = pairwiseSub(u.OID, clientID), s.tid, "2.0"
	if nonce != "" {
		c["nonce"] = nonce
	}
	if len(u.Roles) > 0 {
		c["roles"] = slices.Clone(u.Roles)
	}
	return c
}

// graphUserClaims are a delegated v1.0 Graph token, like real Graph tokens.
func (s *Server) graphUserClaims(u *User, a *app, acr string) jwt.MapClaims {
	c := s.timeClaims(s.v1Issuer(), GraphAudience)
	c["acct"], c["acr"], c["amr"] = 0, "1", []string{"pwd"}
	c["app_displayname"], c["appid"], c["appidacr"] = a.Name, a.ClientID, acr
	c["idtyp"], c["name"], c["oid"], c["rh"] = "user", u.Name, u.OID, randomString(24, base64.RawURLEncoding)
	c["scp"], c["sub"], c["tid"] = GraphDelegatedScopes, pairwiseSub(u.OID, graphAppID), s.tid
	c["unique_name"], c["upn"], c["ver"] = u.UPN, u.UPN, "1.0"
	return c
}

// graphAppClaims are an app-only v1.0 Graph token: no user, the app's
// service principal as oid and sub, application permissions as roles.
func (s *Server) graphAppClaims(a *app, acr string) jwt.MapClaims {
	c := s.timeClaims(s.v1Issuer(), GraphAudience)
	c["app_displayname"], c["appid"], c["appidacr"] = a.Name, a.ClientID, acr
	c["idp"], c["idtyp"], c["oid"], c["sub"] = s.v1Issuer(), "app", a.servicePrinOID, a.servicePrinOID
	c["rh"], c["roles"], c["tid"], c["ver"] = randomString(24, base64.RawURLEncoding), strings.Fields(GraphAppRoles), s.tid, "1.0"
	return c
}

func (s *Server) userByUPN(upn string) *User {
	for _, u := range s.userList {
		if strings.EqualFold(u.UPN, upn) {
			return u
		}
	}
	return nil
}

// --- errors ---

// stsError is an Entra error answer.
type stsError struct {
	status int
	err    string // OAuth 2.0 error code
	code   int    // AADSTS number
	msg    string // description after "AADSTSnnnn: "
	sub    string // suberror, e.g. consent_required
}

func badRequest(err string, code int, format string, args ...any) *stsError {
	return &stsError{status: http.StatusBadRequest, err: err, code: code, msg: fmt.Sprintf(format, args...)}
}

func badClient(code int, format string, args ...any) *stsError {
	return &stsError{status: http.StatusUnauthorized, err: "invalid_client", code: code, msg: fmt.Sprintf(format, args...)}
}

func missingParam(name string) *stsError {
	return badRequest("invalid_request", 900144, "The request body must contain the following parameter: '%s'.", name)
}

func (e *stsError) description() string { return fmt.Sprintf("AADSTS%d: %s", e.code, e.msg) }

// fail writes e, correlated with the caller's client-request-id as Entra does.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, e *stsError) {
	corr := r.Header.Get("client-request-id")
	if !isGUID(corr) {
		corr = newGUID()
	}
	s.writeError(w, e, corr)
}

func (s *Server) writeError(w http.ResponseWriter, e *stsError, corr string) {
	trace := newGUID()
	ts := s.now().UTC().Format("2006-01-02 15:04:05Z")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("x-ms-request-id", trace)
	writeJSON(w, e.status, struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		Timestamp     string `json:"timestamp"`
		TraceID       string `json:"trace_id"`
		CorrelationID string `json:"correlation_id"`
		URI           string `json:"error_uri"`
		Suberror      string `json:"suberror,omitempty"`
	}{e.err, fmt.Sprintf("%s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s", e.description(), trace, corr, ts),
		[]int{e.code}, ts, trace, corr, s.authority + "error?code=" + fmt.Sprint(e.code), e.sub})
}

// writeFault answers an injected status with the error Entra sends for it.
func (s *Server) writeFault(w http.ResponseWriter, status int) {
	e := &stsError{status: status, err: "invalid_request", code: 9002313, msg: "Invalid request. Request is malformed or invalid."}
	switch {
	case status == http.StatusTooManyRequests:
		e.err, e.code, e.msg = "temporarily_unavailable", 90055, "TenantThrottlingError - There are too many incoming requests."
	case status == http.StatusServiceUnavailable:
		e.err, e.code, e.msg = "temporarily_unavailable", 50000, "There was an error issuing a token or an issue with our sign-in service."
	case status >= 500:
		e.err, e.code, e.msg = "server_error", 50000, "There was an error issuing a token or an issue with our sign-in service."
	}
	s.writeError(w, e, newGUID())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// --- small helpers ---

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", r):
			return false
		}
	}
	return true
}

func formatGUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return formatGUID(b)
}

// guidFrom derives a stable GUID, e.g. a service principal's object ID.
func guidFrom(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return formatGUID(sum[:16])
}

// pairwiseSub is a subject unique per user and audience, as Entra's sub is.
func pairwiseSub(oid, aud string) string {
	sum := sha256.Sum256([]byte(oid + "|" + strings.ToLower(aud)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int, enc *base64.Encoding) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return enc.EncodeToString(b)
}
