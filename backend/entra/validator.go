// Package entra validates the access tokens Office hands the add-in, and
// exchanges them on behalf of the user for Microsoft Graph tokens.
package entra

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Scope is the delegated scope the add-in's token must carry.
const Scope = "access_as_user"

// ValidatorConfig says which tokens are acceptable.
type ValidatorConfig struct {
	AuthorityHost  string   // e.g. https://login.microsoftonline.com/ (trailing slash)
	Tenant         string   // tenant GUID or "organizations"
	AllowedTenants []string // tenant IDs accepted when multi-tenant
	ClientID       string   // the add-in's app: the token's audience
	HTTPClient     *http.Client
	// Skew tolerates clock differences on exp and nbf.
	Skew time.Duration
	// MinRefresh is the least time between two key refreshes caused by an
	// unknown kid, so forged kids cannot make us hammer Entra ID.
	MinRefresh time.Duration
	Now        func() time.Time
}

// Validator checks SSO access tokens. It is safe for concurrent use.
type Validator struct {
	cfg ValidatorConfig

	mu          sync.Mutex
	issuer      string // may hold "{tenantid}" for multi-tenant
	jwksURI     string
	keys        map[string]*rsa.PublicKey
	lastRefresh time.Time

	// validated caches full validations, keyed by the token's SHA-256, so
	// that the add-in's every request does not pay for parsing and an RSA
	// verification again (30 % of GET /api/v1/me's CPU, BENCHMARKS.md).
	// Only the time claims can change a token's outcome: entries expire
	// with the token (plus Skew) and hits check the times again.
	// A new key set empties it, so a key Entra ID withdrew stops being
	// trusted at the next refresh.
	validated memo[[sha256.Size]byte, validToken]
}

// validToken is what a token's signature and claims vouch for.
type validToken struct {
	principal scheduler.Principal // Assertion left empty: the caller has it
	exp, nbf  time.Time           // nbf zero: none
}

// NewValidator returns a Validator; keys are fetched on first use.
func NewValidator(cfg ValidatorConfig) *Validator {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Skew == 0 {
		cfg.Skew = time.Minute
	}
	if cfg.MinRefresh == 0 {
		cfg.MinRefresh = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Validator{cfg: cfg}
}

// DiscoveryURL is where the v2.0 OpenID configuration of the tenant lives.
func DiscoveryURL(authorityHost, tenant string) string {
	return strings.TrimSuffix(authorityHost, "/") + "/" + tenant + "/v2.0/.well-known/openid-configuration"
}

func tokenError(code, msg string) error { return &scheduler.Error{Code: code, Message: msg} }

// Validate checks a bearer token and returns who it names.
func (v *Validator) Validate(ctx context.Context, raw string) (scheduler.Principal, error) {
	if strings.TrimSpace(raw) == "" {
		return scheduler.Principal{}, tokenError(scheduler.ECodeTokenMissing, "A bearer token is required.")
	}
	if strings.Count(raw, ".") != 2 {
		return scheduler.Principal{}, tokenError(scheduler.ECodeTokenMalformed, "The token is not a JWT.")
	}
	sum := sha256.Sum256([]byte(raw))
	e, ok := v.validated.get(sum, v.cfg.Now())
	if ok {
		if err := v.checkTimes(e.exp, e.nbf); err != nil {
			return scheduler.Principal{}, err
		}
	} else {
		var err error
		if e, err = v.verify(ctx, raw); err != nil {
			return scheduler.Principal{}, err
		}
		v.validated.put(sum, e, e.exp.Add(v.cfg.Skew), v.cfg.Now())
	}
	p := e.principal
	p.Assertion = raw
	return p, nil
}

// verify checks a token's signature and claims.
func (v *Validator) verify(ctx context.Context, raw string) (validToken, error) {
	if err := v.ensureDiscovery(ctx); err != nil {
		return validToken{}, err
	}
	claims := jwt.MapClaims{}
	var keyErr error
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, err := v.key(ctx, kid)
		keyErr = err
		return key, err
	})
	switch {
	case err == nil:
	case keyErr != nil:
		return validToken{}, keyErr
	case errors.Is(err, jwt.ErrTokenSignatureInvalid) && strings.Contains(err.Error(), "signing method"):
		return validToken{}, tokenError(scheduler.ECodeTokenAlgorithm, "The token's signing algorithm is not allowed; RS256 is required.")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return validToken{}, tokenError(scheduler.ECodeTokenSignature, "The token's signature is invalid.")
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return validToken{}, tokenError(scheduler.ECodeTokenAlgorithm, "The token's signing algorithm is not allowed; RS256 is required.")
	default:
		return validToken{}, tokenError(scheduler.ECodeTokenMalformed, "The token cannot be parsed.")
	}
	return v.checkClaims(claims)
}

// checkTimes applies the token's expiry and not-before, with Skew.
func (v *Validator) checkTimes(exp, nbf time.Time) error {
	now := v.cfg.Now()
	if now.After(exp.Add(v.cfg.Skew)) {
		return tokenError(scheduler.ECodeTokenExpired, "The token has expired.")
	}
	if !nbf.IsZero() && now.Add(v.cfg.Skew).Before(nbf) {
		return tokenError(scheduler.ECodeTokenNotYetValid, "The token is not valid yet.")
	}
	return nil
}

func (v *Validator) checkClaims(c jwt.MapClaims) (validToken, error) {
	str := func(k string) string { s, _ := c[k].(string); return s }
	if str("ver") != "2.0" {
		return validToken{}, tokenError(scheduler.ECodeTokenVersion, "Only v2.0 access tokens are accepted; set requestedAccessTokenVersion to 2 in the app registration.")
	}
	tid := str("tid")
	v.mu.Lock()
	issuer := v.issuer
	v.mu.Unlock()
	wantIss := strings.ReplaceAll(issuer, "{tenantid}", tid)
	if tid == "" || str("iss") != wantIss {
		return validToken{}, tokenError(scheduler.ECodeTokenIssuer, "The token was not issued by the expected authority.")
	}
	if !v.tenantAllowed(tid) {
		return validToken{}, tokenError(scheduler.ECodeTokenTenant, "The token's tenant is not allowed to use this service.")
	}
	if !v.audienceOK(c) {
		return validToken{}, tokenError(scheduler.ECodeTokenAudience, "The token is not meant for this service.")
	}
	exp, err := c.GetExpirationTime()
	if err != nil || exp == nil {
		return validToken{}, tokenError(scheduler.ECodeTokenMalformed, "The token has no valid expiry.")
	}
	nbf, err := c.GetNotBefore()
	if err != nil {
		return validToken{}, tokenError(scheduler.ECodeTokenMalformed, "The token's not-before time is invalid.")
	}
	var notBefore time.Time
	if nbf != nil {
		notBefore = nbf.Time
	}
	if err := v.checkTimes(exp.Time, notBefore); err != nil {
		return validToken{}, err
	}
	scopes := strings.Fields(str("scp"))
	if !slices.Contains(scopes, Scope) {
		return validToken{}, tokenError(scheduler.ECodeTokenScope, "The token lacks the access_as_user scope.")
	}
	oid := str("oid")
	if oid == "" {
		return validToken{}, tokenError(scheduler.ECodeTokenMalformed, "The token names no user.")
	}
	var roles []string
	if rs, ok := c["roles"].([]any); ok {
		for _, r := range rs {
			if s, ok := r.(string); ok {
				roles = append(roles, s)
			}
		}
	}
	return validToken{
		principal: scheduler.Principal{OID: oid, TID: tid, Name: str("name"), Username: str("preferred_username"), Roles: roles, Scopes: scopes},
		exp:       exp.Time, nbf: notBefore,
	}, nil
}

func (v *Validator) tenantAllowed(tid string) bool {
	switch v.cfg.Tenant {
	case "organizations", "common":
		return slices.Contains(v.cfg.AllowedTenants, tid)
	default:
		return strings.EqualFold(tid, v.cfg.Tenant) || slices.Contains(v.cfg.AllowedTenants, tid)
	}
}

func (v *Validator) audienceOK(c jwt.MapClaims) bool {
	auds, err := c.GetAudience()
	if err != nil {
		return false
	}
	for _, a := range auds {
		if a == v.cfg.ClientID || (strings.HasPrefix(a, "api://") && strings.HasSuffix(a, "/"+v.cfg.ClientID)) {
			return true
		}
	}
	return false
}

// ensureDiscovery loads issuer and jwks_uri once.
func (v *Validator) ensureDiscovery(ctx context.Context) error {
	v.mu.Lock()
	done := v.jwksURI != ""
	v.mu.Unlock()
	if done {
		return nil
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, DiscoveryURL(v.cfg.AuthorityHost, v.cfg.Tenant), &doc); err != nil {
		return err
	}
	if doc.Issuer == "" || doc.JWKSURI == "" {
		return scheduler.Wrap(scheduler.ECodeTokenKeysFetching, "Sign-in keys are unavailable; try again shortly.", errors.New("discovery document lacks issuer or jwks_uri"))
	}
	v.mu.Lock()
	v.issuer, v.jwksURI = doc.Issuer, doc.JWKSURI
	v.mu.Unlock()
	return nil
}

// key returns the public key for kid, refreshing the key set when kid is
// unknown and the last refresh is older than MinRefresh.
func (v *Validator) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	k, ok := v.keys[kid]
	stale := v.keys == nil || v.cfg.Now().Sub(v.lastRefresh) >= v.cfg.MinRefresh
	v.mu.Unlock()
	if ok {
		return k, nil
	}
	if kid == "" || !stale {
		return nil, tokenError(scheduler.ECodeTokenUnknownKey, "The token was signed with an unknown key.")
	}
	if err := v.refreshKeys(ctx); err != nil {
		return nil, err
	}
	v.mu.Lock()
	k, ok = v.keys[kid]
	v.mu.Unlock()
	if !ok {
		return nil, tokenError(scheduler.ECodeTokenUnknownKey, "The token was signed with an unknown key.")
	}
	return k, nil
}

func (v *Validator) refreshKeys(ctx context.Context) error {
	v.mu.Lock()
	uri := v.jwksURI
	v.lastRefresh = v.cfg.Now() // counts failed refreshes too, so an outage is not hammered
	v.mu.Unlock()
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := v.getJSON(ctx, uri, &set); err != nil {
		return err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	v.mu.Lock()
	v.keys = keys
	v.mu.Unlock()
	v.validated.reset()
	return nil
}

func (v *Validator) getJSON(ctx context.Context, url string, out any) error {
	fail := func(err error) error {
		return scheduler.Wrap(scheduler.ECodeTokenKeysFetching, "Sign-in keys are unavailable; try again shortly.", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fail(err)
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("GET %s: status %d", url, resp.StatusCode))
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(out); err != nil {
		return fail(fmt.Errorf("GET %s: %w", url, err))
	}
	return nil
}
