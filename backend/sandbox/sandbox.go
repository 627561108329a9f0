// Package sandbox runs Web Scheduler without a tenant: an emulated Entra ID
// and Graph mailbox with seeded users, reached by the service over real
// HTTPS through exactly the code a real tenant uses (DESIGN §4).
package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emuentra"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

// The sandbox tenant and app, fixed so tokens and links stay readable.
const (
	TenantID     = "7e3c1d2a-5b4f-4c8e-9a61-0f2d3b4c5a6e"
	TenantDomain = "contoso.example"
	ClientID     = "5a0c9e1b-2d3f-4a6b-8c7d-9e0f1a2b3c4d"
)

// Options configure a sandbox.
type Options struct {
	// PublicURL is where browsers reach the service (for the sign-in page).
	PublicURL string
	// ExtraUsers join the seeded users (tests add people with hostile names).
	ExtraUsers []User
	// Graph holds extra options for the emulated Graph (tests set Spec to
	// validate against the oracle); users and authentication are filled in.
	Graph emugraph.Options
}

// Sandbox is a running pair of emulators.
type Sandbox struct {
	Entra         *emuentra.Server
	Graph         *emugraph.Server
	ClientSecret  string
	AuthorityHost string // https://127.0.0.1:port/
	GraphURL      string // https://127.0.0.1:port/v1.0
	TLS           *LoopbackTLS

	handler http.Handler
	servers []*http.Server
}

// Start creates the emulators with the seeded users and serves each at
// the root of a loopback TLS port of its own: MSAL insists on https and
// rebuilds the authority from host and tenant, dropping any path prefix.
func Start(o Options) (*Sandbox, error) {
	lt, err := NewLoopbackTLS()
	if err != nil {
		return nil, err
	}
	entraLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	graphLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		entraLn.Close()
		return nil, err
	}
	closeAll := func() { entraLn.Close(); graphLn.Close() }
	users := append(append([]User(nil), seedUsers...), o.ExtraUsers...)
	s := &Sandbox{
		ClientSecret:  randomSecret(),
		AuthorityHost: "https://" + entraLn.Addr().String() + "/",
		GraphURL:      "https://" + graphLn.Addr().String() + "/v1.0",
		TLS:           lt,
	}
	s.Entra, err = emuentra.New(emuentra.Options{
		AuthorityURL: s.AuthorityHost,
		TenantID:     TenantID,
		TenantDomain: TenantDomain,
		Apps: []emuentra.App{{
			ClientID:     ClientID,
			Secret:       s.ClientSecret,
			RedirectURIs: []string{strings.TrimSuffix(o.PublicURL, "/") + "/auth/callback", strings.TrimSuffix(o.PublicURL, "/") + "/addin/auth.html"},
			AppIDURI:     "api://" + hostOf(o.PublicURL) + "/" + ClientID,
		}},
		Users: entraUsers(users),
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	gopts := o.Graph
	gopts.Users = graphUsers(users)
	gopts.Authenticate = s.authenticateGraph
	s.Graph, err = emugraph.New(gopts)
	if err != nil {
		closeAll()
		return nil, err
	}
	if err := seedEvents(s.Graph, time.Now()); err != nil {
		closeAll()
		return nil, err
	}
	s.handler = s.routes()
	for _, ls := range []struct {
		ln net.Listener
		h  http.Handler
	}{{entraLn, s.Entra.Handler()}, {graphLn, s.Graph.Handler()}} {
		srv := &http.Server{Handler: ls.h, TLSConfig: lt.Server.Clone(), ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		go srv.ServeTLS(ls.ln, "", "") //nolint:errcheck // ends with Close
	}
	return s, nil
}

// Handler serves every /sandbox/ route; the service mounts it on its
// public address too, for browsers and inspection.
func (s *Sandbox) Handler() http.Handler { return s.handler }

// Close stops the TLS listeners.
func (s *Sandbox) Close() error {
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *Sandbox) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/sandbox/entra/", http.StripPrefix("/sandbox/entra", s.Entra.Handler()))
	mux.Handle("/sandbox/graph/", http.StripPrefix("/sandbox/graph", s.Graph.Handler()))
	mux.HandleFunc("POST /sandbox/token", s.token)
	mux.HandleFunc("GET /sandbox/mailboxes/{upn}/events", s.mailboxEvents)
	s.controlRoutes(mux) // faults.go
	return mux
}

// authenticateGraph checks a Graph bearer token as real Graph would: it
// must be a Graph token from the emulated Entra ID.
func (s *Sandbox) authenticateGraph(r *http.Request) (emugraph.Caller, error) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return emugraph.Caller{}, errors.New("no bearer token")
	}
	claims, err := s.Entra.VerifyAccessToken(raw, "https://graph.microsoft.com")
	if err != nil {
		return emugraph.Caller{}, err
	}
	str := func(k string) string { v, _ := claims[k].(string); return v }
	c := emugraph.Caller{TenantID: str("tid"), Scopes: strings.Fields(str("scp"))}
	if str("idtyp") != "app" {
		c.UserID = str("oid")
	}
	if roles, ok := claims["roles"].([]any); ok {
		for _, r := range roles {
			if s, ok := r.(string); ok {
				c.Roles = append(c.Roles, s)
			}
		}
	}
	return c, nil
}

// token hands out an SSO token as Office's getAccessToken would.
func (s *Sandbox) token(w http.ResponseWriter, r *http.Request) {
	upn := strings.TrimSpace(r.PostFormValue("user"))
	tok, exp, err := s.Entra.IssueSSOToken(upn, ClientID)
	if err != nil {
		writeError(w, http.StatusBadRequest, "unknown_user", "No seeded user has that address.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int(exp / time.Second)})
}

func (s *Sandbox) mailboxEvents(w http.ResponseWriter, r *http.Request) {
	events, err := s.Graph.Events(r.PathValue("upn"))
	if err != nil {
		writeError(w, http.StatusNotFound, "not_found", "No such mailbox.")
		return
	}
	if events == nil {
		events = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": events})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hostOf(u string) string {
	u = strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	h, _, _ := strings.Cut(u, "/")
	return h
}
