package main

import (
	"errors"
	"fmt"
	"github.com/webscheduler/webscheduler/backend/qoe"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/httpapi"
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
	// Call quality (QoE), used only with QoEDatabaseURL.
	QoESIPAddr          string
	QoESIPAllow         []netip.Prefix
	QoEIngestKey        string
	QoERetention        time.Duration
	QoETruncateIPs      bool
	QoETeams            bool
	QoETeamsClientState string
	Sandbox             bool
	LogLevel            slog.Level
	RateLimits          httpapi.RateLimits
	TrustedProxies      []netip.Prefix
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
	c.RateLimits = httpapi.DefaultRateLimits
	for _, l := range []struct {
		name string
		into *int
	}{{"RATE_LIMIT_IP", &c.RateLimits.PerIP}, {"RATE_LIMIT_USER", &c.RateLimits.PerUser}} {
		if v := get(l.name, ""); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				bad("WEBSCHEDULER_%s must be a number of requests per minute (0 turns the limit off), got %q", l.name, v)
			}
			*l.into = n
		}
	}
	c.TrustedProxies = prefixes("TRUSTED_PROXIES", get, bad)
	loadQoE(&c, get, bad)
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
		"qoe_database_url", redactURL(c.QoEDatabaseURL), "qoe_sip_addr", c.QoESIPAddr, "qoe_ingest_key", mask(c.QoEIngestKey),
		"qoe_retention", c.QoERetention.String(), "qoe_truncate_ips", c.QoETruncateIPs, "qoe_teams", c.QoETeams,
		"qoe_teams_client_state", mask(c.QoETeamsClientState), "log_level", c.LogLevel.String(),
		"rate_limit_ip", c.RateLimits.PerIP, "rate_limit_user", c.RateLimits.PerUser, "trusted_proxies", c.TrustedProxies,
	}
}

var errUsage = errors.New("usage")

// prefixes reads a comma-separated list of addresses and CIDR prefixes.
func prefixes(name string, get func(name, def string) string, bad func(format string, args ...any)) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range strings.Split(get(name, ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if a, err := netip.ParseAddr(p); err == nil {
			p = netip.PrefixFrom(a, a.BitLen()).String()
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			bad("WEBSCHEDULER_%s: %q is not an address or CIDR prefix", name, p)
			continue
		}
		out = append(out, pfx.Masked())
	}
	return out
}

// loadQoE reads the call-quality settings; they need the database URL.
func loadQoE(c *config, get func(name, def string) string, bad func(format string, args ...any)) {
	c.QoESIPAddr, c.QoEIngestKey = get("QOE_SIP_ADDR", ""), get("QOE_INGEST_KEY", "")
	c.QoETeamsClientState = get("QOE_TEAMS_CLIENT_STATE", "")
	if r, err := qoe.ParseRetention(get("QOE_RETENTION", "90d")); err != nil {
		bad("WEBSCHEDULER_QOE_RETENTION: %v", err)
	} else {
		c.QoERetention = r
	}
	c.QoESIPAllow = prefixes("QOE_SIP_ALLOW", get, bad)
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"QOE_TRUNCATE_IPS", &c.QoETruncateIPs}, {"QOE_TEAMS", &c.QoETeams}} {
		switch v := get(f.name, "0"); v {
		case "0", "false":
		case "1", "true":
			*f.dst = true
		default:
			bad("WEBSCHEDULER_%s must be 1 or 0, got %q", f.name, v)
		}
	}
	if c.QoESIPAddr != "" {
		if _, _, err := net.SplitHostPort(c.QoESIPAddr); err != nil {
			bad("WEBSCHEDULER_QOE_SIP_ADDR %q is not host:port", c.QoESIPAddr)
		}
	}
	if k := c.QoEIngestKey; k != "" && len(k) < 16 {
		bad("WEBSCHEDULER_QOE_INGEST_KEY must be at least 16 characters")
	}
	if c.QoEDatabaseURL == "" && (c.QoESIPAddr != "" || c.QoEIngestKey != "" || c.QoETeams) {
		bad("WEBSCHEDULER_QOE_SIP_ADDR, _INGEST_KEY and _TEAMS need WEBSCHEDULER_QOE_DATABASE_URL")
	}
	if c.QoETeams && !strings.HasPrefix(c.PublicURL, "https://") {
		bad("WEBSCHEDULER_QOE_TEAMS needs an https WEBSCHEDULER_PUBLIC_URL (Graph notifies only https)")
	}
	if c.QoETeams && len(c.QoETeamsClientState) > 128 {
		bad("WEBSCHEDULER_QOE_TEAMS_CLIENT_STATE may not exceed 128 characters")
	}
}
