package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/webscheduler/webscheduler/backend/secret"
)

// config is every WEBSCHEDULER_* variable of DESIGN §3, parsed once.
type config struct {
	Addr           string
	PublicURL      string
	TLSCert        string
	TLSKey         string
	TenantID       string
	AllowedTenants []string
	ClientID       string
	ClientSecret   string
	ClientCert     string
	AuthorityHost  string
	GraphURL       string
	RedisURL       string
	EncryptionKey  []byte
	Provider       string
	SettingsPath   string
	QoEDatabaseURL string
	Sandbox        bool
	LogLevel       slog.Level
}

// configError lists every problem found, so one start shows them all.
type configError []string

func (e configError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e, "\n  - ")
}

// loadConfig reads the environment through getenv and validates it whole.
func loadConfig(getenv func(string) string) (config, error) {
	var errs configError
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv("WEBSCHEDULER_" + name)); v != "" {
			return v
		}
		return def
	}

	c := config{
		Addr:           get("ADDR", "127.0.0.1:8080"),
		TLSCert:        get("TLS_CERT", ""),
		TLSKey:         get("TLS_KEY", ""),
		TenantID:       get("TENANT_ID", ""),
		ClientID:       get("CLIENT_ID", ""),
		ClientSecret:   get("CLIENT_SECRET", ""),
		ClientCert:     get("CLIENT_CERT", ""),
		AuthorityHost:  get("AUTHORITY_HOST", "https://login.microsoftonline.com/"),
		GraphURL:       get("GRAPH_URL", "https://graph.microsoft.com/v1.0"),
		RedisURL:       get("REDIS_URL", ""),
		Provider:       get("PROVIDER", ""),
		SettingsPath:   get("SETTINGS", ""),
		QoEDatabaseURL: get("QOE_DATABASE_URL", ""),
	}
	for _, t := range strings.Split(get("ALLOWED_TENANTS", ""), ",") {
		if t = strings.TrimSpace(t); t != "" {
			c.AllowedTenants = append(c.AllowedTenants, t)
		}
	}
	switch v := get("SANDBOX", ""); v {
	case "", "0", "false":
	case "1", "true":
		c.Sandbox = true
	default:
		bad("WEBSCHEDULER_SANDBOX must be 1 or 0, got %q", v)
	}
	if c.TenantID == "" {
		c.Sandbox = true
	}
	c.PublicURL = get("PUBLIC_URL", "")
	if c.PublicURL == "" && c.Sandbox {
		c.PublicURL = sandboxPublicURL(c.Addr, c.TLSCert != "")
	}

	switch v := strings.ToLower(get("LOG_LEVEL", "info")); v {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		bad("WEBSCHEDULER_LOG_LEVEL must be debug, info, warn or error, got %q", v)
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("WEBSCHEDULER_ADDR %q is not host:port", c.Addr)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("WEBSCHEDULER_TLS_CERT and WEBSCHEDULER_TLS_KEY must be set together")
	}
	for _, f := range []struct{ name, path string }{{"TLS_CERT", c.TLSCert}, {"TLS_KEY", c.TLSKey}, {"CLIENT_CERT", c.ClientCert}, {"SETTINGS", c.SettingsPath}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			bad("WEBSCHEDULER_%s: cannot read %q", f.name, f.path)
		}
	}
	switch c.Provider {
	case "", "template", "teams":
	default:
		bad("WEBSCHEDULER_PROVIDER must be template or teams, got %q", c.Provider)
	}

	if c.PublicURL == "" {
		bad("WEBSCHEDULER_PUBLIC_URL is required outside sandbox mode")
	} else if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(c.Sandbox && u.Scheme == "http")) || (u.Path != "" && u.Path != "/") {
		bad("WEBSCHEDULER_PUBLIC_URL %q must be an https origin such as https://webscheduler.example.com (http only in sandbox mode)", c.PublicURL)
	} else {
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	if !c.Sandbox || c.TenantID != "" {
		checkHTTPS := func(name, v string) {
			if u, err := url.Parse(v); err != nil || u.Scheme != "https" || u.Host == "" {
				bad("WEBSCHEDULER_%s %q must be an https URL", name, v)
			}
		}
		checkHTTPS("AUTHORITY_HOST", c.AuthorityHost)
		checkHTTPS("GRAPH_URL", c.GraphURL)
		if !strings.HasSuffix(c.AuthorityHost, "/") {
			c.AuthorityHost += "/"
		}
	}

	if c.TenantID != "" {
		if c.ClientID == "" {
			bad("WEBSCHEDULER_TENANT_ID is set but WEBSCHEDULER_CLIENT_ID is not")
		}
		if c.ClientSecret == "" && c.ClientCert == "" {
			bad("set WEBSCHEDULER_CLIENT_SECRET or WEBSCHEDULER_CLIENT_CERT for on-behalf-of")
		}
		if (c.TenantID == "organizations" || c.TenantID == "common") && len(c.AllowedTenants) == 0 {
			bad("WEBSCHEDULER_TENANT_ID=%s needs WEBSCHEDULER_ALLOWED_TENANTS", c.TenantID)
		}
	}
	if c.ClientSecret != "" && c.ClientCert != "" {
		bad("set only one of WEBSCHEDULER_CLIENT_SECRET and WEBSCHEDULER_CLIENT_CERT")
	}

	if k := get("ENCRYPTION_KEY", ""); k != "" {
		key, err := secret.ParseKey(k)
		if err != nil {
			bad("WEBSCHEDULER_ENCRYPTION_KEY %v (want base64 of 32 random bytes: openssl rand -base64 32)", err)
		}
		c.EncryptionKey = key
	}
	if !c.Sandbox {
		if c.RedisURL == "" {
			bad("WEBSCHEDULER_REDIS_URL is required outside sandbox mode (in-memory state is sandbox only)")
		}
		if c.EncryptionKey == nil && get("ENCRYPTION_KEY", "") == "" {
			bad("WEBSCHEDULER_ENCRYPTION_KEY is required outside sandbox mode")
		}
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || !validRedisScheme(u.Scheme) {
			bad("WEBSCHEDULER_REDIS_URL %q must be a redis://, rediss://, redis+sentinel://, redis+cluster:// or unix:// URL", redactURL(c.RedisURL))
		}
	}
	if !c.Sandbox && c.Provider != "teams" && c.SettingsPath == "" {
		bad("WEBSCHEDULER_SETTINGS is required with the template provider outside sandbox mode (join URL template, dial-in numbers)")
	}
	if c.QoEDatabaseURL != "" {
		if u, err := url.Parse(c.QoEDatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("WEBSCHEDULER_QOE_DATABASE_URL must be a postgres:// URL")
		}
	}
	if len(errs) > 0 {
		return c, errs
	}
	return c, nil
}

func validRedisScheme(s string) bool {
	switch s {
	case "redis", "rediss", "redis+sentinel", "rediss+sentinel", "redis+cluster", "rediss+cluster", "unix":
		return true
	}
	return false
}

// sandboxPublicURL is the address a newcomer's browser reaches.
func sandboxPublicURL(addr string, tls bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" || host == "127.0.0.1" {
		host = "localhost"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// redactURL hides a URL's password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}

// logValue is the effective configuration with every secret masked.
func (c config) logAttrs() []any {
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "***"
	}
	keyState := "random per process"
	if c.EncryptionKey != nil {
		keyState = "***"
	}
	return []any{
		"sandbox", c.Sandbox, "addr", c.Addr, "public_url", c.PublicURL,
		"tls", c.TLSCert != "", "tenant_id", c.TenantID, "allowed_tenants", c.AllowedTenants,
		"client_id", c.ClientID, "client_secret", mask(c.ClientSecret), "client_cert", c.ClientCert,
		"authority_host", c.AuthorityHost, "graph_url", c.GraphURL,
		"redis_url", redactURL(c.RedisURL), "encryption_key", keyState,
		"provider", c.Provider, "settings", c.SettingsPath,
		"qoe_database_url", redactURL(c.QoEDatabaseURL), "log_level", c.LogLevel.String(),
	}
}

var errUsage = errors.New("usage")
