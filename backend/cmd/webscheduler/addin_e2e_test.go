package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"
)

func TestAddinIsServedWithItsPolicy(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	resp, err := http.Get(h.base + "/addin/taskpane.html")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "appsforoffice.microsoft.com/lib/1/hosted/office.js") {
		t.Fatalf("taskpane: %d", resp.StatusCode)
	}
	for _, want := range []string{"frame-ancestors 'self' https://outlook.office.com", "script-src 'self' https://appsforoffice.microsoft.com", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("add-in CSP %q lacks %q", csp, want)
		}
	}
	js, _ := http.Get(h.base + "/addin/taskpane.js")
	js.Body.Close()
	if ct := js.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("taskpane.js served as %q", ct)
	}
	var policy struct {
		AutoAdd *bool `json:"autoAdd"`
	}
	if resp := h.do("GET", "/api/v1/settings/addin", h.token(adele), nil, &policy); resp.StatusCode != 200 || policy.AutoAdd == nil || *policy.AutoAdd {
		t.Fatalf("add-in settings: %d %+v", resp.StatusCode, policy)
	}
	// Outlook needs https: the sandbox's plain-HTTP origin gets a clear error.
	var e apiError
	if resp := h.do("GET", "/manifest.xml", "", nil, &e); resp.StatusCode != 409 || !strings.Contains(e.Error.Message, "https") {
		t.Fatalf("manifest over http: %d %+v", resp.StatusCode, e)
	}
}

var authResult = regexp.MustCompile(`(?s)<script type="application/json" id="webscheduler-auth-result">(.*?)</script>`)

func TestAddinDialogSignIn(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(h.base + "/addin/auth.html?login_hint=" + adele)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := authResult.FindSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("dialog ended with %d:\n%s", resp.StatusCode, page)
	}
	var result struct {
		Token     string          `json:"token"`
		ExpiresIn int             `json:"expiresIn"`
		Error     json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &result); err != nil || result.Token == "" || result.ExpiresIn <= 0 {
		t.Fatalf("result %s: %v", m[1], err)
	}
	var me meBody
	if resp := h.do("GET", "/api/v1/me", result.Token, nil, &me); resp.StatusCode != 200 {
		t.Fatalf("the dialog's credential is refused: %d", resp.StatusCode)
	}
	checkMe(t, me)
	for _, c := range resp.Cookies() {
		if !c.Expires.IsZero() || c.MaxAge != 0 {
			t.Errorf("cookie %s is persistent", c.Name)
		}
	}

	// A callback without the flow cookie (another window, a replay) fails.
	resp, err = http.Get(h.base + "/addin/auth.html?code=stolen&state=x")
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "sso_failed") || strings.Contains(string(page), `"token"`) {
		t.Fatalf("replayed callback: %s", page)
	}
}
