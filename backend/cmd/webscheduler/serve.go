package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/webscheduler/webscheduler/addin"
	"github.com/webscheduler/webscheduler/backend/qoe"
	"github.com/webscheduler/webscheduler/manifest"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/graph"
	"github.com/webscheduler/webscheduler/backend/httpapi"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/redisstore"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/session"
	"github.com/webscheduler/webscheduler/backend/tracking"
)

// shutdownGrace is how long in-flight requests may take after SIGTERM.
const shutdownGrace = 25 * time.Second

// stores is what the service keeps state in.
type stores interface {
	scheduler.SessionStore
	scheduler.TokenCache
	scheduler.ConferenceStore
	scheduler.IdempotencyStore
	scheduler.Pinger
	scheduler.RateLimiter
}

// instance is a running service; tests start one in-process.
type instance struct {
	cfg     config
	log     *slog.Logger
	addr    net.Addr
	sandbox *sandbox.Sandbox
	stores  stores
	server  *httpapi.Server
	closers []func() error
	admin   adminParts
}

// testHooks let in-process tests isolate shared state.
type testHooks struct {
	redisPrefix string
	listener    net.Listener
	graphSpec   *openapi3.T // validate the emulated Graph against the oracle
	extraUsers  []sandbox.User
	// egress wraps the one transport every outbound HTTP client is built
	// on, so the privacy tests can record where the service reaches.
	egress func(*http.Transport) http.RoundTripper
	// sandbox, when set, is used instead of starting one: instances that
	// share it share one tenant (the scale-out tests).
	sandbox *sandbox.Sandbox
	// tuneAdmin adjusts the refresh engine and change tracker (shorter
	// leases and intervals in tests).
	tuneAdmin func(*refresh.Engine, *tracking.Tracker)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// serve runs the service until ctx ends, then shuts down gracefully.
func serve(ctx context.Context, cfg config, logOut io.Writer) error {
	in, err := start(ctx, cfg, newLogger(logOut, cfg.LogLevel), testHooks{})
	if err != nil {
		return err
	}
	return in.wait(ctx)
}

// start wires every part and begins listening; it returns once the
// listener is bound.
func start(ctx context.Context, cfg config, log *slog.Logger, hooks testHooks) (*instance, error) {
	in := &instance{cfg: cfg, log: log}
	log.Info("configuration", cfg.logAttrs()...)

	key := cfg.EncryptionKey
	if key == nil {
		key = secret.RandomKey() // sandbox only: loadConfig refuses otherwise
	}
	box, err := secret.New(key)
	if err != nil {
		return nil, err
	}

	if cfg.RedisURL != "" {
		client, err := redisstore.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, configError{fmt.Sprintf("WEBSCHEDULER_REDIS_URL: %v", err)}
		}
		in.closers = append(in.closers, client.Close)
		prefix := hooks.redisPrefix
		if prefix == "" {
			prefix = redisstore.DefaultPrefix
		}
		in.stores = redisstore.New(client, redisstore.Options{Prefix: prefix})
	} else {
		in.stores = inmem.New()
	}

	authority, graphURL, tenant := cfg.AuthorityHost, cfg.GraphURL, cfg.TenantID
	creds := entra.Credentials{ClientID: cfg.ClientID, Secret: cfg.ClientSecret}
	var base *http.Transport
	if cfg.Sandbox && cfg.TenantID == "" {
		sb := hooks.sandbox
		if sb == nil {
			if sb, err = sandbox.Start(sandbox.Options{PublicURL: cfg.PublicURL, ExtraUsers: hooks.extraUsers, Graph: emugraph.Options{Spec: hooks.graphSpec}}); err != nil {
				return nil, fmt.Errorf("starting sandbox: %w", err)
			}
			in.closers = append(in.closers, sb.Close)
		}
		in.sandbox = sb
		authority, graphURL, tenant = sb.AuthorityHost, sb.GraphURL, sandbox.TenantID
		creds = entra.Credentials{ClientID: sandbox.ClientID, Secret: sb.ClientSecret}
		base = http.DefaultTransport.(*http.Transport).Clone() // as for a real tenant: HTTP/2, timeouts
		base.TLSClientConfig = &tls.Config{RootCAs: sb.TLS.Roots, MinVersion: tls.VersionTLS12}
		log.Warn("SANDBOX MODE: emulated Entra ID and Graph, in-memory state unless WEBSCHEDULER_REDIS_URL is set; no real tenant is reached",
			"entra", authority, "graph", graphURL, "public_url", cfg.PublicURL)
	} else if cfg.ClientCert != "" {
		creds.Certs, creds.Key, err = loadClientCert(cfg.ClientCert)
		if err != nil {
			return nil, configError{fmt.Sprintf("WEBSCHEDULER_CLIENT_CERT: %v", err)}
		}
	}
	if base == nil {
		base = http.DefaultTransport.(*http.Transport).Clone()
	}
	// Nearly every request goes to one host (Graph): keep idle connections
	// for concurrent requests, or each one past the default two pays a new
	// TLS handshake (bench/README.md).
	base.MaxIdleConnsPerHost = 100
	var transport http.RoundTripper = base
	if hooks.egress != nil {
		transport = hooks.egress(base)
	}

	validator := entra.NewValidator(entra.ValidatorConfig{
		AuthorityHost: authority, Tenant: tenant, AllowedTenants: cfg.AllowedTenants, ClientID: creds.ClientID,
		HTTPClient: &http.Client{Transport: transport, Timeout: 10 * time.Second},
	})
	obo := &entra.OnBehalfOf{AuthorityHost: authority, Tenant: tenant, Creds: creds, Transport: &http.Client{Transport: transport, Timeout: 30 * time.Second}, Cache: in.stores, Box: box}
	metrics := httpapi.NewMetrics()
	gc, err := graph.New(graph.Config{BaseURL: graphURL, Credential: entra.UserCredential{OBO: obo}, Transport: transport, OnRequest: metrics.ObserveGraph})
	if err != nil {
		return nil, err
	}
	settings, providerName, err := loadSettings(cfg)
	if err != nil {
		in.close()
		return nil, err
	}
	adm, err := startAdmin(ctx, adminWiring{
		base: settings, provider: providerName, box: box, stores: in.stores, admin: adminStoresFor(in.stores), meetings: gc,
		graphURL: graphURL, authority: authority, tenant: tenant, creds: creds, transport: transport, tune: hooks.tuneAdmin,
	}, log)
	if err != nil {
		in.close()
		return nil, err
	}
	in.closers = append(in.closers, adm.stop)
	in.admin = adm
	var signIn, pageSignIn httpapi.WebSignIn
	if creds.Secret != "" || creds.Key != nil {
		sc := entra.WebSignInConfig{
			AuthorityHost: authority, Tenant: tenant, ClientID: creds.ClientID, ClientSecret: creds.Secret, Certs: creds.Certs, Key: creds.Key,
			AppIDURI: "api://" + hostOf(cfg.PublicURL) + "/" + creds.ClientID, RedirectURL: cfg.PublicURL + "/addin/auth.html",
			HTTPClient: &http.Client{Transport: transport, Timeout: 10 * time.Second},
		}
		if in.sandbox != nil {
			sc.BrowserAuthURL = cfg.PublicURL + "/sandbox/entra/" + sandbox.TenantID + "/oauth2/v2.0/authorize"
		}
		signIn = entra.NewWebSignIn(sc)
		sc.RedirectURL = cfg.PublicURL + "/auth/callback" // the Web Scheduler page
		pageSignIn = entra.NewWebSignIn(sc)
	}
	qoeSvc, err := startQoE(ctx, cfg, log, authority, tenant, graphURL, creds, transport)
	if err != nil {
		in.close()
		return nil, err
	}
	in.closers = append(in.closers, func() error { qoeSvc.Close(); return nil })
	deps := httpapi.Deps{
		QoE:          qoeSvc.Handler(),
		QoEOpenPaths: []string{qoe.IngestPath, qoe.TeamsPath},
		Logger:       log,
		Validator:    validator,
		Sessions:     &session.Manager{Store: in.stores, Box: box, Directory: gc},
		Meetings: &meeting.Service{
			Conferences: in.stores, Idempotency: in.stores, Provider: adm.provider, Calendar: gc,
			Templates: adm.settings, Users: gc, Box: box,
		},
		Jitsi:      adm.jitsi,
		DialIn:     dialInNumbers(settings),
		Addin:      addin.Files,
		SignIn:     signIn,
		PageSignIn: pageSignIn,
		People:     gc,
		Box:        box,
		AutoAdd:    settings.AutoAdd,
		Manifest: func(kind string) ([]byte, error) {
			return generateManifest(kind, cfg.PublicURL, creds.ClientID)
		},
		Metrics:   metrics,
		Ready:     []scheduler.Pinger{in.stores},
		PublicURL: cfg.PublicURL,

		// Counters share the session store: Redis across replicas.
		RateLimiter:    in.stores,
		RateLimits:     cfg.RateLimits,
		TrustedProxies: cfg.TrustedProxies,

		Settings: adm.settings,
		Refresh:  adm.refresh,
		Changes:  adm.tracker,
	}
	if in.sandbox != nil {
		deps.Sandbox = in.sandbox.Handler()
	}
	in.server = httpapi.New(deps)

	ln := hooks.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			in.close()
			return nil, err
		}
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			in.close()
			return nil, configError{fmt.Sprintf("WEBSCHEDULER_TLS_CERT/_KEY: %v", err)}
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	in.addr = ln.Addr()
	go func() {
		if err := in.server.App().Listener(ln); err != nil {
			log.Error("listener stopped", "err", err.Error())
		}
	}()
	log.Info("listening", "addr", in.addr.String(), "public_url", cfg.PublicURL)
	return in, nil
}

// wait blocks until ctx ends, then lets in-flight requests finish.
func (in *instance) wait(ctx context.Context) error {
	<-ctx.Done()
	return in.shutdown()
}

func (in *instance) shutdown() error {
	in.log.Info("shutting down", "grace", shutdownGrace.String())
	err := in.server.App().ShutdownWithTimeout(shutdownGrace)
	return errors.Join(err, in.close())
}

func (in *instance) close() error {
	var errs []error
	for i := len(in.closers) - 1; i >= 0; i-- {
		errs = append(errs, in.closers[i]())
	}
	in.closers = nil
	return errors.Join(errs...)
}

// loadClientCert reads a PEM file holding the certificate chain and key.
func loadClientCert(path string) ([]*x509.Certificate, any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	var key any
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, err
			}
			certs = append(certs, c)
		case "PRIVATE KEY":
			if key, err = x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
				return nil, nil, err
			}
		case "RSA PRIVATE KEY":
			if key, err = x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(certs) == 0 || key == nil {
		return nil, nil, errors.New("the PEM file must hold a certificate and its private key")
	}
	return certs, key, nil
}

// loadSettings reads the conferencing settings file (built-in ones in
// sandbox mode) and decides the provider: WEBSCHEDULER_PROVIDER, else the
// file's, else template. The two may not contradict each other.
func loadSettings(cfg config) (conferencing.Settings, string, error) {
	var settings conferencing.Settings
	switch {
	case cfg.SettingsPath != "":
		s, err := conferencing.LoadSettings(cfg.SettingsPath)
		if err != nil {
			return s, "", configError{fmt.Sprintf("WEBSCHEDULER_SETTINGS: %v", err)}
		}
		settings = s
	case cfg.Sandbox:
		settings = conferencing.SandboxSettings(cfg.PublicURL)
		settings.Provider = "" // built in, not an admin's choice: the variable decides
	}
	name := cfg.Provider
	switch {
	case name != "" && settings.Provider != "" && name != settings.Provider:
		return settings, "", configError{fmt.Sprintf("WEBSCHEDULER_PROVIDER=%s contradicts provider %q in WEBSCHEDULER_SETTINGS", name, settings.Provider)}
	case name == "":
		name = settings.Provider
	}
	if name == "" {
		name = conferencing.ProviderTemplate
	}
	settings.Provider = name
	return settings, name, nil
}

func dialInNumbers(s conferencing.Settings) []scheduler.DialIn {
	out := make([]scheduler.DialIn, 0, len(s.DialIn.Numbers))
	for _, n := range s.DialIn.Numbers {
		out = append(out, scheduler.DialIn{Region: n.Region, Number: n.Number, Language: n.Language, TollFree: n.TollFree})
	}
	return out
}

// manifestVersion is the add-in version Outlook compares to update an
// installed add-in: the build's semantic version, or 0.0.0 for dev builds.
func manifestVersion() string {
	if v := strings.TrimPrefix(version, "v"); strings.Count(v, ".") == 2 {
		return v
	}
	return "0.0.0"
}

func generateManifest(kind, publicURL, clientID string) ([]byte, error) {
	c := manifest.Config{PublicURL: publicURL, ClientID: clientID, Version: manifestVersion()}
	switch kind {
	case "json":
		return manifest.JSON(c)
	case "zip":
		return manifest.Package(c)
	}
	return manifest.XML(c)
}

// hostOf is the host[:port] of an origin URL.
func hostOf(origin string) string {
	u, err := url.Parse(origin)
	if err != nil {
		return ""
	}
	return u.Host
}

// startQoE opens call-quality collection when WEBSCHEDULER_QOE_DATABASE_URL
// is set; otherwise it returns a nil *qoe.Service, whose handler answers 404
// and which receives and stores nothing.
func startQoE(ctx context.Context, cfg config, log *slog.Logger, authority, tenant, graphURL string,
	creds entra.Credentials, transport http.RoundTripper) (*qoe.Service, error) {
	if cfg.QoEDatabaseURL == "" {
		return nil, nil
	}
	o := qoe.Options{Logger: log.With("component", "qoe"), IngestKey: cfg.QoEIngestKey,
		Retention: cfg.QoERetention, TruncateIPs: cfg.QoETruncateIPs, SIPAllow: cfg.QoESIPAllow}
	if cfg.QoETeams {
		hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}
		cred, err := entra.AppCredential(authority, tenant, creds, hc)
		if err != nil {
			return nil, fmt.Errorf("QoE Teams credential: %w", err)
		}
		o.Teams = &qoe.TeamsOptions{Graph: qoe.NewGraphClient(graphURL, cred, hc),
			NotificationURL: strings.TrimRight(cfg.PublicURL, "/") + "/api/v1/admin/qoe" + qoe.TeamsPath,
			ClientState:     cfg.QoETeamsClientState}
	}
	svc, err := qoe.Open(ctx, cfg.QoEDatabaseURL, o)
	if err != nil {
		return nil, fmt.Errorf("QoE: %w", err)
	}
	if cfg.QoESIPAddr != "" {
		udp, err := net.ListenPacket("udp", cfg.QoESIPAddr)
		if err != nil {
			svc.Close()
			return nil, fmt.Errorf("WEBSCHEDULER_QOE_SIP_ADDR: %w", err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			svc.Close()
			return nil, fmt.Errorf("WEBSCHEDULER_QOE_SIP_ADDR: %w", err)
		}
		go func() { // returns when svc.Close runs at shutdown
			if err := svc.ServeSIP(context.Background(), udp, tcp); err != nil {
				log.Error("qoe sip stopped", "err", err.Error())
			}
		}()
	}
	return svc, nil
}
