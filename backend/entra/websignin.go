package entra

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// WebSignInConfig configures browser sign-in (authorization code + PKCE)
// for the add-in's fallback dialog and the web page.
type WebSignInConfig struct {
	AuthorityHost string
	Tenant        string
	ClientID      string
	// ClientSecret, or else Certs and Key (a certificate credential: the
	// code is redeemed with a client assertion signed by Key).
	ClientSecret string
	Certs        []*x509.Certificate
	Key          crypto.PrivateKey
	// AppIDURI names the service's API, e.g. api://host/<client-id>; the
	// sign-in asks for its access_as_user scope, so the result is a token
	// the service validates like any SSO token (never a Graph token).
	AppIDURI    string
	RedirectURL string
	// BrowserAuthURL, when set, replaces the discovery document's
	// authorization endpoint (the sandbox's emulator is reached by the
	// service over loopback TLS, by browsers through the public address).
	BrowserAuthURL string
	HTTPClient     *http.Client
}

// WebSignIn runs the authorization-code flow with PKCE through a kept
// OAuth2/OIDC library (x/oauth2, go-oidc).
type WebSignIn struct {
	cfg WebSignInConfig

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewWebSignIn returns a WebSignIn; the discovery document is read on
// first use, so a start never depends on Entra ID being reachable.
func NewWebSignIn(cfg WebSignInConfig) *WebSignIn {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &WebSignIn{cfg: cfg}
}

// Flow is what one sign-in must remember between leaving for Entra ID and
// coming back: kept sealed in a session cookie by the caller.
type Flow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Expires  time.Time `json:"e"`
}

// SignedIn is the result of a completed sign-in.
type SignedIn struct {
	AccessToken string // for this service's API (access_as_user)
	Expiry      time.Time
	OID, TID    string
	Roles       []string
}

func (w *WebSignIn) config(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.oauth != nil {
		return w.oauth, w.verifier, nil
	}
	var doc struct {
		Issuer   string `json:"issuer"`
		AuthURL  string `json:"authorization_endpoint"`
		TokenURL string `json:"token_endpoint"`
		JWKSURL  string `json:"jwks_uri"`
	}
	v := NewValidator(ValidatorConfig{HTTPClient: w.cfg.HTTPClient})
	if err := v.getJSON(ctx, DiscoveryURL(w.cfg.AuthorityHost, w.cfg.Tenant), &doc); err != nil {
		return nil, nil, err
	}
	authURL := doc.AuthURL
	if w.cfg.BrowserAuthURL != "" {
		authURL = w.cfg.BrowserAuthURL
	}
	ctx = oidc.ClientContext(ctx, w.cfg.HTTPClient)
	pc := oidc.ProviderConfig{IssuerURL: doc.Issuer, AuthURL: authURL, TokenURL: doc.TokenURL, JWKSURL: doc.JWKSURL, Algorithms: []string{oidc.RS256}}
	provider := pc.NewProvider(context.WithoutCancel(ctx))
	// A multi-tenant issuer is a template; the tenant is checked below.
	multi := strings.Contains(doc.Issuer, "{tenantid}")
	w.verifier = provider.Verifier(&oidc.Config{ClientID: w.cfg.ClientID, SkipIssuerCheck: multi})
	w.oauth = &oauth2.Config{
		ClientID: w.cfg.ClientID, ClientSecret: w.cfg.ClientSecret, RedirectURL: w.cfg.RedirectURL,
		Endpoint: oauth2.Endpoint{AuthURL: authURL, TokenURL: doc.TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{oidc.ScopeOpenID, "profile", w.cfg.AppIDURI + "/" + Scope},
	}
	return w.oauth, w.verifier, nil
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start begins a sign-in: the URL to send the browser to and the flow to
// remember. loginHint may be empty.
func (w *WebSignIn) Start(ctx context.Context, loginHint string) (string, Flow, error) {
	oc, _, err := w.config(ctx)
	if err != nil {
		return "", Flow{}, err
	}
	f := Flow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Expires: time.Now().Add(10 * time.Minute)}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return oc.AuthCodeURL(f.State, opts...), f, nil
}

var errSignIn = &scheduler.Error{Code: scheduler.ECodeUnauthenticated, Message: "The sign-in did not complete; try again."}

// Finish redeems the code of a sign-in that came back with state. The
// caller validates the access token like any other (tenant allow-list,
// audience, scope) before trusting it.
func (w *WebSignIn) Finish(ctx context.Context, f Flow, state, code string) (SignedIn, error) {
	if f.State == "" || state != f.State || time.Now().After(f.Expires) || code == "" {
		return SignedIn{}, errSignIn
	}
	oc, verifier, err := w.config(ctx)
	if err != nil {
		return SignedIn{}, err
	}
	ctx = oidc.ClientContext(ctx, w.cfg.HTTPClient)
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(f.Verifier)}
	if w.cfg.ClientSecret == "" {
		a, err := clientAssertion(w.cfg.ClientID, oc.Endpoint.TokenURL, w.cfg.Certs, w.cfg.Key)
		if err != nil {
			return SignedIn{}, scheduler.Wrap(errSignIn.Code, errSignIn.Message, err)
		}
		opts = append(opts, oauth2.SetAuthURLParam("client_assertion_type", clientAssertionType), oauth2.SetAuthURLParam("client_assertion", a))
	}
	tok, err := oc.Exchange(ctx, code, opts...)
	if err != nil {
		return SignedIn{}, scheduler.Wrap(errSignIn.Code, errSignIn.Message, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(ctx, rawID)
	if err != nil {
		return SignedIn{}, scheduler.Wrap(errSignIn.Code, errSignIn.Message, err)
	}
	if idt.Nonce != f.Nonce {
		return SignedIn{}, scheduler.Wrap(errSignIn.Code, errSignIn.Message, errors.New("nonce mismatch"))
	}
	var claims struct {
		OID   string   `json:"oid"`
		TID   string   `json:"tid"`
		Roles []string `json:"roles"`
	}
	if err := idt.Claims(&claims); err != nil || claims.OID == "" {
		return SignedIn{}, scheduler.Wrap(errSignIn.Code, errSignIn.Message, errors.Join(err, errors.New("id token names no user")))
	}
	return SignedIn{AccessToken: tok.AccessToken, Expiry: tok.Expiry, OID: claims.OID, TID: claims.TID, Roles: claims.Roles}, nil
}

const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// clientAssertion is the app's proof of its certificate for one token
// request (RFC 7523, as Entra ID takes it): signed with the key, naming
// the certificate by its SHA-256 thumbprint, for the token endpoint only
// and for ten minutes.
func clientAssertion(clientID, tokenURL string, certs []*x509.Certificate, key crypto.PrivateKey) (string, error) {
	rk, ok := key.(*rsa.PrivateKey)
	if !ok || len(certs) == 0 {
		return "", errors.New("a certificate credential needs a certificate and its RSA key")
	}
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.MapClaims{
		"aud": tokenURL, "iss": clientID, "sub": clientID, "jti": randomString(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	})
	sum := sha256.Sum256(certs[0].Raw)
	t.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(sum[:])
	return t.SignedString(rk)
}

// MarshalFlow and UnmarshalFlow turn a flow into bytes for sealing.
func MarshalFlow(f Flow) []byte { b, _ := json.Marshal(f); return b }

// UnmarshalFlow reads a flow written by MarshalFlow.
func UnmarshalFlow(b []byte) (Flow, error) {
	var f Flow
	err := json.Unmarshal(b, &f)
	return f, err
}
