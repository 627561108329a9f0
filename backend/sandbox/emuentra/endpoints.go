package emuentra

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// errNoKey tells the client assertion parser that no registered certificate
// matches the assertion's thumbprint.
var errNoKey = errors.New("no registered certificate matches the assertion's thumbprint")

const (
	grantOBO           = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	grantClientCreds   = "client_credentials"
	grantAuthCode      = "authorization_code"
	grantRefresh       = "refresh_token"
	clientAssertionJWT = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// oidcScopes are the OpenID Connect scopes, which name no resource.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// userGrant is what a user's tokens are issued from: an authorization code,
// a refresh token or an on-behalf-of assertion.
type userGrant struct {
	user    *User
	client  *app
	acr     string // how the client authenticated: "0" public, "1" secret, "2" certificate
	scopes  scopeSet
	nonce   string    // authorization codes only
	expires time.Time // codes and refresh tokens
}

// authCode is an issued authorization code with its PKCE challenge.
type authCode struct {
	userGrant
	redirectURI string
	challenge   string
	used        bool
}

// tokenResponse is the token endpoint's success JSON, as MSAL reads it.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope,omitempty"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
	ClientInfo   string `json:"client_info,omitempty"`
}

// --- token endpoint ---

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	resp, e := s.tokenResponse(w, r)
	if e != nil {
		s.fail(w, r, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) tokenResponse(w http.ResponseWriter, r *http.Request) (*tokenResponse, *stsError) {
	if r.Method != http.MethodPost {
		return nil, badRequest("invalid_request", 900561, "The endpoint only accepts POST requests. Received a %s request.", r.Method)
	}
	seg := r.PathValue("tenant")
	ok, multi := s.resolveTenant(seg)
	if !ok {
		e := s.tenantNotFound(seg)
		e.err = "invalid_request"
		return nil, e
	}
	// Entra reads only a form body: any other body has no grant_type.
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return nil, missingParam("grant_type")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("invalid_request", 9002313, "Invalid request. Request is malformed or invalid.")
	}
	f := r.PostForm // parameters in the query string are not credentials
	gt := f.Get("grant_type")
	switch gt {
	case "":
		return nil, missingParam("grant_type")
	case grantOBO, grantClientCreds, grantAuthCode, grantRefresh:
	default:
		return nil, badRequest("unsupported_grant_type", 70003, "The app requested an unsupported grant type '%s'.", gt)
	}
	c, e := s.authenticate(r, f, seg)
	if e != nil {
		return nil, e
	}
	switch gt {
	case grantOBO:
		return s.onBehalfOf(c, f)
	case grantClientCreds:
		return s.clientCredentials(c, f, multi)
	case grantAuthCode:
		return s.redeemCode(c, f)
	default:
		return s.redeemRefreshToken(c, f)
	}
}

// caller is the authenticated client of a token request.
type caller struct {
	app *app
	acr string // "0" public client, "1" secret, "2" certificate
}

// authenticate checks the client: client_secret_post, client_secret_basic or
// private_key_jwt for confidential apps, nothing for public ones.
func (s *Server) authenticate(r *http.Request, form url.Values, seg string) (caller, *stsError) {
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if user, pass, ok := r.BasicAuth(); ok {
		// RFC 6749 §2.3.1: both parts are form-encoded before Basic encoding.
		user, err1 := url.QueryUnescape(user)
		pass, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || secret != "" || (id != "" && id != user) {
			return caller{}, badRequest("invalid_request", 9002313, "Invalid request. Request is malformed or invalid.")
		}
		id, secret = user, pass
	}
	if id == "" {
		return caller{}, missingParam("client_id")
	}
	a := s.apps[strings.ToLower(id)]
	if a == nil {
		return caller{}, badRequest("unauthorized_client", 700016,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", id, s.tid)
	}
	assertion := form.Get("client_assertion")
	switch {
	case a.public():
		if secret != "" || assertion != "" {
			return caller{}, badClient(700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
		}
		return caller{a, "0"}, nil
	case secret != "" && assertion != "":
		return caller{}, badRequest("invalid_request", 9002313, "Invalid request. Request is malformed or invalid.")
	case secret != "":
		if a.Secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(a.Secret)) != 1 {
			return caller{}, badClient(7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", a.ClientID)
		}
		return caller{a, "1"}, nil
	case assertion != "":
		if t := form.Get("client_assertion_type"); t != clientAssertionJWT {
			return caller{}, badRequest("invalid_request", 9002313, "Invalid request. client_assertion_type must be '%s'.", clientAssertionJWT)
		}
		if e := s.checkClientAssertion(a, assertion, seg); e != nil {
			return caller{}, e
		}
		return caller{a, "2"}, nil
	}
	return caller{}, badClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
}

// checkClientAssertion verifies a private_key_jwt assertion: signed (RS256
// or PS256, MSAL uses PS256) by the registered certificate named by its x5t
// or x5t#S256 header, iss = sub = client ID, aud = this token endpoint,
// within its exp and nbf.
func (s *Server) checkClientAssertion(a *app, raw, seg string) *stsError {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if a.certKey == nil {
			return nil, errNoKey
		}
		if h, ok := t.Header["x5t#S256"].(string); ok && thumbprintIs(h, a.sha256) {
			return a.certKey, nil
		}
		if h, ok := t.Header["x5t"].(string); ok && thumbprintIs(h, a.sha1) {
			return a.certKey, nil
		}
		return nil, errNoKey
	}, jwt.WithValidMethods([]string{"RS256", "PS256"}), jwt.WithoutClaimsValidation())
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return badClient(50027, "JWT token is invalid or malformed.")
	case errors.Is(err, errNoKey):
		return badClient(700027, "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found.]")
	case err != nil:
		return badClient(700027, "Client assertion failed signature validation.")
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if !strings.EqualFold(iss, a.ClientID) || !strings.EqualFold(sub, a.ClientID) {
		return badClient(700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
	}
	aud, _ := claims.GetAudience()
	if !slices.ContainsFunc(aud, func(v string) bool {
		for _, t := range []string{seg, s.tid, s.domain} {
			if t != "" && strings.EqualFold(v, s.authority+t+"/oauth2/v2.0/token") {
				return true
			}
		}
		return false
	}) {
		return badClient(700023, "Client assertion audience claim does not match Realm issuer.")
	}
	if p := s.timeProblem(claims); p != "" {
		return badClient(700024, "Client assertion is not within its valid time range. %s", p)
	}
	return nil
}

// timeProblem describes why a token's exp (required) or nbf (optional) do
// not hold the server's now, or returns "".
func (s *Server) timeProblem(claims jwt.MapClaims) string {
	now := s.now()
	exp, _ := claims.GetExpirationTime()
	nbf, _ := claims.GetNotBefore()
	switch {
	case exp == nil:
		return "The assertion has no expiry time."
	case !now.Before(exp.Time):
		return "Current time: " + now.UTC().Format(time.DateTime) + ", expiry time of assertion " + exp.UTC().Format(time.DateTime) + "."
	case nbf != nil && now.Before(nbf.Time):
		return "Current time: " + now.UTC().Format(time.DateTime) + ", assertion valid from " + nbf.UTC().Format(time.DateTime) + "."
	}
	return ""
}

// thumbprintIs compares a certificate thumbprint header, in any base64
// flavour (MSAL sends standard base64, the RFC says base64url).
func thumbprintIs(h string, want []byte) bool {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(h); err == nil {
			return subtle.ConstantTimeCompare(b, want) == 1
		}
	}
	return false
}

// onBehalfOf exchanges a user's token for the middle tier (the assertion)
// for a Graph token.
func (s *Server) onBehalfOf(c caller, f url.Values) (*tokenResponse, *stsError) {
	if c.acr == "0" {
		return nil, badClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	for _, p := range []string{"assertion", "requested_token_use", "scope"} {
		if f.Get(p) == "" {
			return nil, missingParam(p)
		}
	}
	if f.Get("requested_token_use") != "on_behalf_of" {
		return nil, badRequest("invalid_request", 9002313, "Invalid request. requested_token_use must be 'on_behalf_of'.")
	}
	ss, e := s.parseScopes(f.Get("scope"))
	if e != nil {
		return nil, e
	}
	u, e := s.checkUserAssertion(f.Get("assertion"), c.app)
	if e != nil {
		return nil, e
	}
	switch ss.resource {
	case GraphAudience:
	case "":
		return nil, badRequest("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s names no resource.", f.Get("scope"))
	default:
		return nil, badRequest("invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. On-behalf-of is emulated for Microsoft Graph only.", ss.prefix, s.tid)
	}
	if u.NoConsent || len(ss.unconsented()) > 0 {
		return nil, s.consentRequired(c.app)
	}
	return s.issueUserTokens(userGrant{user: u, client: c.app, acr: c.acr, scopes: ss}, f)
}

// checkUserAssertion accepts a user token this server issued for the
// middle-tier app itself (by client ID or App ID URI), unexpired.
func (s *Server) checkUserAssertion(raw string, a *app) (*User, *stsError) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, s.publicKey, jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, badRequest("invalid_request", 50027, "JWT token is invalid or malformed.")
	case err != nil:
		return nil, badRequest("invalid_grant", 50013, "Assertion failed signature validation. [Reason - The key was not found.]")
	}
	if iss, _ := claims["iss"].(string); iss != s.v2Issuer() && iss != s.v1Issuer() {
		return nil, badRequest("invalid_grant", 50013, "Assertion is not valid: its issuer is not this tenant.")
	}
	if p := s.timeProblem(claims); p != "" {
		return nil, badRequest("invalid_grant", 500133, "Assertion is not within its valid time range. Ensure that the access token is not expired before using it for user assertion, or request a new token. %s", p)
	}
	aud, _ := claims.GetAudience()
	if !slices.ContainsFunc(aud, func(v string) bool {
		return strings.EqualFold(v, a.ClientID) || (a.AppIDURI != "" && v == a.AppIDURI)
	}) {
		return nil, badRequest("invalid_grant", 500131,
			"Assertion audience does not match the Client app presenting the assertion. The audience in the assertion was '%s' and the expected audience is '%s' or one of the Application Uris of this application with App ID '%s'(%s). The downstream client must request a token for the expected audience (the application that made the OBO request) and this application should use that token as the assertion.",
			strings.Join(aud, ","), a.ClientID, a.ClientID, a.Name)
	}
	oid, _ := claims["oid"].(string)
	u := s.users[strings.ToLower(oid)]
	if _, delegated := claims["scp"]; !delegated || u == nil {
		return nil, badRequest("invalid_grant", 50013, "Assertion is not valid: it does not name a user of this tenant.")
	}
	return u, nil
}

func (s *Server) consentRequired(a *app) *stsError {
	e := badRequest("invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '%s' named '%s'. Send an interactive authorization request for this user and resource.", a.ClientID, a.Name)
	e.sub = "consent_required"
	return e
}

// clientCredentials issues an app-only Graph token.
func (s *Server) clientCredentials(c caller, f url.Values, multi bool) (*tokenResponse, *stsError) {
	if c.acr == "0" {
		return nil, badClient(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	if multi {
		return nil, badRequest("invalid_request", 50059, "No tenant-identifying information found in either the request or implied by any provided credentials.")
	}
	if f.Get("scope") == "" {
		return nil, missingParam("scope")
	}
	ss, e := s.parseScopes(f.Get("scope"))
	if e != nil {
		return nil, e
	}
	// MSAL adds openid, profile and offline_access even here; Entra ignores them.
	if len(ss.perms) != 1 || ss.perms[0] != ".default" {
		return nil, badRequest("invalid_scope", 1002012, "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", f.Get("scope"))
	}
	if ss.resource != GraphAudience {
		return nil, badRequest("invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. Client credentials are emulated for Microsoft Graph only.", ss.prefix, s.tid)
	}
	at, err := s.sign(s.graphAppClaims(c.app, c.acr), true)
	if err != nil {
		return nil, internalError()
	}
	secs := int64(s.lifetime / time.Second)
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: at}, nil
}

// redeemCode exchanges an authorization code, checking its client,
// redirect_uri and PKCE verifier. A code is consumed only by a successful
// redemption and then answers AADSTS54005.
func (s *Server) redeemCode(c caller, f url.Values) (*tokenResponse, *stsError) {
	for _, p := range []string{"code", "redirect_uri", "code_verifier"} {
		if f.Get(p) == "" {
			return nil, missingParam(p)
		}
	}
	g, e := s.takeCode(c, f)
	if e != nil {
		return nil, e
	}
	return s.issueUserTokens(g, f)
}

func (s *Server) takeCode(c caller, f url.Values) (userGrant, *stsError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.codes[f.Get("code")]
	switch {
	case ac == nil || ac.client != c.app:
		return userGrant{}, badRequest("invalid_grant", 70000, "Provided grant is invalid or malformed.")
	case ac.used:
		return userGrant{}, badRequest("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
	case !s.now().Before(ac.expires):
		return userGrant{}, badRequest("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
	case ac.redirectURI != f.Get("redirect_uri"):
		return userGrant{}, badRequest("invalid_grant", 500112, "The reply address '%s' does not match the reply address '%s' provided when requesting Authorization code.", f.Get("redirect_uri"), ac.redirectURI)
	case !verifierMatches(f.Get("code_verifier"), ac.challenge):
		return userGrant{}, badRequest("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
	}
	ac.used = true
	g := ac.userGrant
	g.acr = c.acr
	return g, nil
}

// verifierMatches is PKCE S256 (RFC 7636 §4.6), with the verifier's syntax.
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// redeemRefreshToken issues new tokens from a refresh token, for its scopes
// or (v2.0 allows it) the scopes now asked for.
func (s *Server) redeemRefreshToken(c caller, f url.Values) (*tokenResponse, *stsError) {
	if f.Get("refresh_token") == "" {
		return nil, missingParam("refresh_token")
	}
	s.mu.Lock()
	stored := s.refresh[f.Get("refresh_token")] // never changed once stored
	s.mu.Unlock()
	switch {
	case stored == nil:
		return nil, badRequest("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
	case !s.now().Before(stored.expires):
		return nil, badRequest("invalid_grant", 700082, "The refresh token has expired due to inactivity.")
	case stored.client != c.app:
		return nil, badRequest("invalid_grant", 70000, "Provided grant is invalid or malformed.")
	}
	g := *stored
	g.acr = c.acr
	if f.Get("scope") != "" {
		ss, e := s.parseScopes(f.Get("scope"))
		if e != nil {
			return nil, e
		}
		if len(ss.unconsented()) > 0 {
			return nil, s.consentRequired(c.app)
		}
		g.scopes = ss
	}
	return s.issueUserTokens(g, f)
}

// issueUserTokens answers a user grant: an access token for its resource
// (Graph when it names none), an ID token for openid, a refresh token for
// offline_access and, when MSAL asks with client_info=1, the uid/utid it
// keys accounts on.
func (s *Server) issueUserTokens(g userGrant, f url.Values) (*tokenResponse, *stsError) {
	claims, v1 := s.graphUserClaims(g.user, g.client, g.acr), true
	if g.scopes.resource != "" && g.scopes.resource != GraphAudience {
		claims, v1 = s.apiClaims(g.user, s.apps[g.scopes.resource], g.client.ClientID, g.acr), false
	}
	at, err := s.sign(claims, v1)
	var idt string
	if err == nil && slices.Contains(g.scopes.oidc, "openid") {
		idt, err = s.sign(s.idClaims(g.user, g.client.ClientID, g.nonce), false)
	}
	if err != nil {
		return nil, internalError()
	}
	secs := int64(s.lifetime / time.Second)
	resp := &tokenResponse{TokenType: "Bearer", Scope: g.scopes.granted(), ExpiresIn: secs, ExtExpiresIn: secs, AccessToken: at, IDToken: idt}
	if slices.Contains(g.scopes.oidc, "offline_access") {
		resp.RefreshToken = randomString(48, base64.RawURLEncoding)
		now := s.now()
		g.nonce, g.expires = "", now.Add(rtLifetime)
		s.mu.Lock()
		for k, old := range s.refresh {
			if now.After(old.expires) {
				delete(s.refresh, k)
			}
		}
		s.refresh[resp.RefreshToken] = &g
		s.mu.Unlock()
	}
	if f.Get("client_info") == "1" {
		b, _ := json.Marshal(map[string]string{"uid": g.user.OID, "utid": s.tid})
		resp.ClientInfo = base64.RawURLEncoding.EncodeToString(b)
	}
	return resp, nil
}

func internalError() *stsError {
	return &stsError{status: http.StatusInternalServerError, err: "server_error", code: 50000, msg: "There was an error issuing a token or an issue with our sign-in service."}
}

// --- scopes ---

// scopeSet is a parsed scope parameter: OpenID scopes plus permissions on at
// most one resource, as Entra allows per token.
type scopeSet struct {
	oidc     []string
	resource string   // GraphAudience, an app's client ID, or "" for none
	prefix   string   // the resource as the client wrote it ("" for bare Graph scopes)
	perms    []string // permission names, ".default" included
}

// parseScopes classifies scopes like Entra v2.0: bare names are Graph's,
// "{resource}/{permission}" names Graph (by URL or app ID) or one of the
// registered apps (by App ID URI, client ID or api://client ID).
func (s *Server) parseScopes(raw string) (scopeSet, *stsError) {
	var ss scopeSet
	fields := strings.Fields(raw)
	if len(fields) == 0 {
		return ss, missingParam("scope")
	}
	for _, f := range fields {
		if o := strings.ToLower(f); slices.Contains(oidcScopes, o) {
			if !slices.Contains(ss.oidc, o) {
				ss.oidc = append(ss.oidc, o)
			}
			continue
		}
		res, prefix, perm, e := s.splitScope(f)
		if e != nil {
			return ss, e
		}
		if ss.resource != "" && ss.resource != res {
			return ss, badRequest("invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope %s is not valid.", raw)
		}
		ss.resource, ss.prefix = res, prefix
		if !slices.Contains(ss.perms, perm) {
			ss.perms = append(ss.perms, perm)
		}
	}
	if slices.Contains(ss.perms, ".default") && len(ss.perms) > 1 {
		return ss, badRequest("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s is not valid. .default scope can't be combined with resource-specific scopes.", raw)
	}
	return ss, nil
}

func (s *Server) splitScope(scope string) (resource, prefix, perm string, e *stsError) {
	lower := strings.ToLower(scope)
	for _, g := range []string{GraphAudience, graphAppID} {
		if strings.HasPrefix(lower, g+"/") && len(scope) > len(g)+1 {
			return GraphAudience, scope[:len(g)], canonicalGraphPerm(scope[len(g)+1:]), nil
		}
	}
	if !strings.ContainsAny(scope, "/:") {
		return GraphAudience, "", canonicalGraphPerm(scope), nil
	}
	for _, a := range s.apps {
		for _, id := range []string{a.AppIDURI, a.ClientID, "api://" + a.ClientID} {
			if id == "" || !strings.HasPrefix(lower, strings.ToLower(id)+"/") {
				continue
			}
			perm := scope[len(id)+1:]
			if perm != SSOScope && perm != ".default" {
				return "", "", "", badRequest("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope %s does not exist on the resource %s.", scope, a.ClientID)
			}
			return a.ClientID, scope[:len(id)], perm, nil
		}
	}
	res := scope[:max(strings.LastIndex(scope, "/"), 0)]
	return "", "", "", badRequest("invalid_resource", 500011, "The resource principal named %s was not found in the tenant named %s. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.", res, s.tid)
}

// canonicalGraphPerm spells a consented Graph permission as Graph does
// (permission names are case-insensitive).
func canonicalGraphPerm(p string) string {
	for _, c := range strings.Fields(GraphDelegatedScopes) {
		if strings.EqualFold(c, p) {
			return c
		}
	}
	return p
}

// unconsented lists the Graph permissions outside the consented set.
func (ss scopeSet) unconsented() []string {
	if ss.resource != GraphAudience {
		return nil
	}
	consented := strings.Fields(GraphDelegatedScopes)
	var out []string
	for _, p := range ss.perms {
		if p != ".default" && !slices.Contains(consented, p) {
			out = append(out, p)
		}
	}
	return out
}

// granted is the response's scope: what the token carries, written with the
// client's own resource prefix and keeping a requested ".default", so that
// MSAL's cache finds the token again under the scopes it asked for.
func (ss scopeSet) granted() string {
	var perms []string
	switch ss.resource {
	case "":
	case GraphAudience:
		perms = strings.Fields(GraphDelegatedScopes)
	default:
		perms = []string{SSOScope}
	}
	if slices.Contains(ss.perms, ".default") {
		perms = append(perms, ".default")
	}
	out := make([]string, 0, len(perms)+len(ss.oidc))
	for _, p := range perms {
		if ss.prefix != "" {
			p = ss.prefix + "/" + p
		}
		out = append(out, p)
	}
	return strings.Join(append(out, ss.oidc...), " ")
}

// --- authorize and logout ---

var pages = template.Must(template.New("signin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body><h1>Sign in</h1><p>{{.App}} wants you to sign in. This is the emulated Microsoft Entra ID of tenant {{.Tenant}}.</p>
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{range .Users}}<p><button type="submit" name="emuentra_user" value="{{.UPN}}">{{.Name}} ({{.UPN}})</button></p>
{{end}}</form></body></html>
{{define "formpost"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Working...</title></head>
<body onload="document.forms[0].submit()"><form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript></form></body></html>
{{end}}{{define "message"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
{{end}}`))

type hiddenField struct{ Name, Value string }

func hiddenFields(v url.Values) []hiddenField {
	var out []hiddenField
	for k, vs := range v {
		for _, x := range vs {
			out = append(out, hiddenField{k, x})
		}
	}
	slices.SortFunc(out, func(a, b hiddenField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func renderPage(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}

// errorPage is for failures that cannot be sent back to a verified
// redirect_uri, which Entra shows to the user instead.
func errorPage(w http.ResponseWriter, e *stsError) {
	renderPage(w, e.status, "message", map[string]string{"Title": "Sorry, but we're having trouble signing you in.", "Text": e.description()})
}

// authorize is the interactive endpoint: it checks the request, shows a
// sign-in page listing the seeded users (or signs in login_hint directly),
// and redirects to redirect_uri with a single-use code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		errorPage(w, badRequest("invalid_request", 9002313, "Invalid request. Request is malformed or invalid."))
		return
	}
	q := r.Form
	seg := r.PathValue("tenant")
	if ok, _ := s.resolveTenant(seg); !ok {
		errorPage(w, s.tenantNotFound(seg))
		return
	}
	if q.Get("client_id") == "" {
		errorPage(w, missingParam("client_id"))
		return
	}
	a := s.apps[strings.ToLower(q.Get("client_id"))]
	if a == nil {
		errorPage(w, badRequest("unauthorized_client", 700016, "Application with identifier '%s' was not found in the directory '%s'.", q.Get("client_id"), s.tid))
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(a.RedirectURIs, redirect) {
		errorPage(w, badRequest("invalid_request", 50011, "The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirect, a.ClientID))
		return
	}
	// An unusable response_mode is itself reported, in the default mode.
	mode, modeErr := q.Get("response_mode"), (*stsError)(nil)
	switch mode {
	case "query", "fragment", "form_post":
	case "":
		mode = "query"
	default:
		mode, modeErr = "query", badRequest("invalid_request", 9002313, "Invalid request. response_mode '%s' is not supported.", mode)
	}
	reply := func(v url.Values) {
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		s.respond(w, r, redirect, mode, v)
	}
	fail := func(e *stsError) {
		reply(url.Values{"error": {e.err}, "error_description": {e.description()}})
	}
	if modeErr != nil {
		fail(modeErr)
		return
	}
	ss, e := s.authorizeChecks(q, a)
	if e != nil {
		fail(e)
		return
	}
	var u *User
	prompt := q.Get("prompt")
	if r.Method == http.MethodPost && q.Has("emuentra_user") {
		u = s.userByUPN(q.Get("emuentra_user"))
	} else if prompt != "login" && prompt != "select_account" {
		u = s.userByUPN(q.Get("login_hint"))
	}
	if u == nil && prompt == "none" {
		fail(badRequest("login_required", 50058, "A silent sign-in request was sent but no user is signed in."))
		return
	}
	if u == nil {
		params := url.Values{}
		for k, v := range q {
			if k != "emuentra_user" {
				params[k] = v
			}
		}
		// The form posts back to the path the browser used (RequestURI is
		// not stripped of the mount prefix), whichever host it came through.
		action, _, _ := strings.Cut(r.RequestURI, "?")
		renderPage(w, http.StatusOK, "signin", map[string]any{
			"App": a.Name, "Tenant": s.domainOrID(), "Action": action,
			"Hidden": hiddenFields(params), "Users": s.userList,
		})
		return
	}
	code := randomString(48, base64.RawURLEncoding)
	now := s.now()
	s.mu.Lock()
	for k, c := range s.codes {
		if now.After(c.expires.Add(codeLifetime)) { // kept a while to answer "expired" rather than "unknown"
			delete(s.codes, k)
		}
	}
	s.codes[code] = &authCode{
		userGrant:   userGrant{user: u, client: a, scopes: ss, nonce: q.Get("nonce"), expires: now.Add(codeLifetime)},
		redirectURI: redirect,
		challenge:   q.Get("code_challenge"),
	}
	s.mu.Unlock()
	reply(url.Values{"code": {code}})
}

// authorizeChecks validates what authorize can only report to the client:
// response type, scopes and PKCE (required, S256 only).
func (s *Server) authorizeChecks(q url.Values, a *app) (scopeSet, *stsError) {
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return scopeSet{}, missingParam("response_type")
	default:
		return scopeSet{}, badRequest("unsupported_response_type", 700054, "response_type '%s' is not enabled for the application.", rt)
	}
	ss, e := s.parseScopes(q.Get("scope"))
	if e != nil {
		return ss, e
	}
	if len(ss.unconsented()) > 0 {
		e := s.consentRequired(a)
		e.err = "consent_required"
		return ss, e
	}
	ch := q.Get("code_challenge")
	switch {
	case ch == "":
		return ss, badRequest("invalid_request", 9002325, "Proof Key for Code Exchange is required for cross-origin authorization code redemption.")
	case q.Get("code_challenge_method") != "S256":
		return ss, badRequest("invalid_request", 9002313, "Invalid request. code_challenge_method must be S256; plain is not accepted.")
	case len(ch) != 43 || strings.Trim(ch, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "":
		return ss, badRequest("invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
	}
	return ss, nil
}

// respond sends v to a verified redirect URI in the requested response mode.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, target, mode string, v url.Values) {
	switch mode {
	case "form_post":
		// target is a registered redirect URI, trusted even with a custom scheme.
		renderPage(w, http.StatusOK, "formpost", map[string]any{"Action": template.URL(target), "Hidden": hiddenFields(v)}) // #nosec G203
	case "fragment":
		http.Redirect(w, r, target+"#"+v.Encode(), http.StatusFound)
	default:
		u, _ := url.Parse(target) // registered URIs are valid
		q := u.Query()
		for k, x := range v {
			q[k] = x
		}
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
}

func (s *Server) domainOrID() string {
	if s.domain != "" {
		return s.domain
	}
	return s.tid
}

// logout ends the (stateless) session: it redirects to a registered
// post_logout_redirect_uri, or says the user is signed out.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	seg := r.PathValue("tenant")
	if ok, _ := s.resolveTenant(seg); !ok {
		errorPage(w, s.tenantNotFound(seg))
		return
	}
	q := r.URL.Query()
	if target := q.Get("post_logout_redirect_uri"); target != "" {
		for _, a := range s.apps {
			if slices.Contains(a.RedirectURIs, target) {
				v := url.Values{}
				if st := q.Get("state"); st != "" {
					v.Set("state", st)
				}
				s.respond(w, r, target, "query", v)
				return
			}
		}
		errorPage(w, badRequest("invalid_request", 50011, "The post logout redirect URI '%s' does not match the redirect URIs configured for any application.", target))
		return
	}
	renderPage(w, http.StatusOK, "message", map[string]string{"Title": "You signed out of your account", "Text": "It's a good idea to close all browser windows."})
}
