package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigSandboxDefault(t *testing.T) {
	t.Parallel()
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Sandbox || c.Addr != "127.0.0.1:8080" || c.PublicURL != "http://localhost:8080" || c.Provider != "" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestConfigProduction(t *testing.T) {
	t.Parallel()
	key := base64.StdEncoding.EncodeToString(make([]byte, 32))
	settings := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(settings, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := loadConfig(envOf(map[string]string{
		"WEBSCHEDULER_SETTINGS":       settings,
		"WEBSCHEDULER_TENANT_ID":      "fec4f964-8bc9-4fac-b972-1c1da35adbcd",
		"WEBSCHEDULER_CLIENT_ID":      "2c3caa80-93f9-425e-8b85-0745f50c0d24",
		"WEBSCHEDULER_CLIENT_SECRET":  "s3cret-value",
		"WEBSCHEDULER_PUBLIC_URL":     "https://webscheduler.example.com/",
		"WEBSCHEDULER_REDIS_URL":      "rediss://:pw@redis.example.com:6380/0",
		"WEBSCHEDULER_ENCRYPTION_KEY": key,
		"WEBSCHEDULER_AUTHORITY_HOST": "https://login.microsoftonline.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Sandbox || c.PublicURL != "https://webscheduler.example.com" || c.AuthorityHost != "https://login.microsoftonline.com/" {
		t.Fatalf("config = %+v", c)
	}
	var buf bytes.Buffer
	newLogger(&buf, slog.LevelInfo).Info("configuration", c.logAttrs()...)
	logged := buf.String()
	if !strings.Contains(logged, `"client_secret":"***"`) {
		t.Errorf("secret not shown masked: %s", logged)
	}
	for _, secretValue := range []string{"s3cret-value", key, ":pw@"} {
		if strings.Contains(logged, secretValue) {
			t.Errorf("effective configuration log shows a secret %q: %s", secretValue, logged)
		}
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPath := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(certPath, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(envOf(map[string]string{
		"WEBSCHEDULER_TENANT_ID":       "fec4f964-8bc9-4fac-b972-1c1da35adbcd",
		"WEBSCHEDULER_CLIENT_SECRET":   "x",
		"WEBSCHEDULER_CLIENT_CERT":     certPath,
		"WEBSCHEDULER_PUBLIC_URL":      "ftp://bad",
		"WEBSCHEDULER_GRAPH_URL":       "not a url",
		"WEBSCHEDULER_ENCRYPTION_KEY":  "short",
		"WEBSCHEDULER_LOG_LEVEL":       "loud",
		"WEBSCHEDULER_PROVIDER":        "zoom",
		"WEBSCHEDULER_ADDR":            "8080",
		"WEBSCHEDULER_TLS_CERT":        "/nonexistent/cert.pem",
		"WEBSCHEDULER_TRUSTED_PROXIES": "10.0.0.0/8, proxy.example",
	}))
	var ce configError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want configError", err)
	}
	for _, want := range []string{
		"CLIENT_ID is not", "only one of WEBSCHEDULER_CLIENT_SECRET and WEBSCHEDULER_CLIENT_CERT", "PUBLIC_URL",
		"GRAPH_URL", "ENCRYPTION_KEY", "LOG_LEVEL", "PROVIDER", "ADDR", "TLS_CERT and WEBSCHEDULER_TLS_KEY",
		"cannot read \"/nonexistent/cert.pem\"", "REDIS_URL is required", `TRUSTED_PROXIES: "proxy.example"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if len(ce) < 12 {
		t.Errorf("got %d problems, want every one listed:\n%v", len(ce), err)
	}
}

func TestConfigMultiTenantNeedsAllowList(t *testing.T) {
	t.Parallel()
	_, err := loadConfig(envOf(map[string]string{
		"WEBSCHEDULER_TENANT_ID": "organizations", "WEBSCHEDULER_CLIENT_ID": "c", "WEBSCHEDULER_CLIENT_SECRET": "s",
		"WEBSCHEDULER_PUBLIC_URL": "https://a.example", "WEBSCHEDULER_REDIS_URL": "redis://127.0.0.1:6379",
		"WEBSCHEDULER_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32)),
	}))
	if err == nil || !strings.Contains(err.Error(), "ALLOWED_TENANTS") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), []string{"bogus"}, envOf(nil), os.Stdout)
	if !errors.Is(err, errUsage) {
		t.Fatalf("unknown command: %v", err)
	}
	err = run(t.Context(), nil, envOf(map[string]string{"WEBSCHEDULER_LOG_LEVEL": "loud"}), os.Stdout)
	var ce configError
	if !errors.As(err, &ce) {
		t.Fatalf("bad config: %v", err)
	}
}

// TestManifestCommand: `webscheduler manifest -zip` writes the app package
// with the unified manifest `manifest -json` prints.
func TestManifestCommand(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"WEBSCHEDULER_PUBLIC_URL": "https://webscheduler.contoso.example", "WEBSCHEDULER_CLIENT_ID": "2c3caa80-93f9-425e-8b85-0745f50c0d24"})
	var unified, pkg bytes.Buffer
	if err := run(t.Context(), []string{"manifest", "-json"}, env, &unified); err != nil {
		t.Fatal(err)
	}
	if err := run(t.Context(), []string{"manifest", "-zip"}, env, &pkg); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(pkg.Bytes()), int64(pkg.Len()))
	if err != nil {
		t.Fatal(err)
	}
	f, err := z.Open("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	inside, _ := io.ReadAll(f)
	if !bytes.Equal(inside, unified.Bytes()) || !strings.Contains(unified.String(), "webscheduler.contoso.example") {
		t.Fatalf("the package's manifest.json differs from manifest -json:\n%s", inside)
	}
}
