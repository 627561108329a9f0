package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/sandbox"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

func TestControlRoutes(t *testing.T) {
	t.Parallel()
	sb, err := sandbox.Start(sandbox.Options{PublicURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	h := sb.Handler()
	do := func(method, path string, form url.Values) (int, map[string]any) {
		t.Helper()
		var req *http.Request
		if form != nil {
			req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			req = httptest.NewRequest(method, path, nil)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}

	if code, out := do("POST", "/sandbox/faults", url.Values{"delay": {"50ms"}, "times": {"1"}}); code != http.StatusOK || out["delay"] != "50ms" || out["route"] != "*" {
		t.Fatalf("set delay: %d %v", code, out)
	}
	if code, _ := do("POST", "/sandbox/faults", url.Values{"route": {"me"}, "status": {"503"}, "retryAfter": {"1s"}}); code != http.StatusOK {
		t.Fatalf("set graph fault: %d", code)
	}
	if code, _ := do("POST", "/sandbox/faults", url.Values{"service": {"entra"}, "route": {"token"}, "status": {"429"}, "retryAfter": {"2s"}, "times": {"1"}}); code != http.StatusOK {
		t.Fatalf("set entra fault: %d", code)
	}
	for _, bad := range []url.Values{
		{"delay": {"forever"}}, {"delay": {"-1s"}}, {"status": {"200"}}, {"times": {"x"}}, {"service": {"teams"}},
	} {
		if code, out := do("POST", "/sandbox/faults", bad); code != http.StatusBadRequest || out["error"] == nil {
			t.Errorf("%v: %d %v", bad, code, out)
		}
	}
	// The emulators' own routes see the faults.
	w := httptest.NewRecorder()
	sb.Graph.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/v1.0/me", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") != "1" {
		t.Fatalf("graph /me: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	w = httptest.NewRecorder()
	sb.Entra.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/"+sandbox.TenantID+"/oauth2/v2.0/token", nil))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("entra token: %d Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}

	code, out := do("GET", "/sandbox/hits?route=me&route=events.get", nil)
	hits, _ := out["hits"].(map[string]any)
	if code != http.StatusOK || hits["me"] != 1.0 || hits["events.get"] != 0.0 {
		t.Fatalf("hits: %d %v", code, out)
	}
	if code, out := do("GET", "/sandbox/hits?service=entra&route=token", nil); code != http.StatusOK || out["hits"].(map[string]any)["token"] != 1.0 {
		t.Fatalf("entra hits: %d %v", code, out)
	}
	if code, _ := do("GET", "/sandbox/hits", nil); code != http.StatusBadRequest {
		t.Fatalf("hits without route: %d", code)
	}
	if code, _ := do("POST", "/sandbox/faults", url.Values{"route": {"me"}, "clear": {"1"}}); code != http.StatusNoContent {
		t.Fatalf("clear: %d", code)
	}
	if code, _ := do("POST", "/sandbox/faults", url.Values{"reset": {"1"}}); code != http.StatusNoContent || sb.Graph.Faults().Hits(emugraph.RouteMe) != 0 {
		t.Fatalf("reset: %d", code)
	}
	sb.Graph.Faults().Set(fault.All, fault.Fault{}) // still settable in-process

	code, out = do("POST", "/sandbox/limits", url.Values{"concurrent": {"4"}, "requests": {"10000"}, "window": {"10m"}})
	if code != http.StatusOK || out["concurrent"] != 4.0 || out["window"] != "10m0s" || out["rejected"] != 0.0 {
		t.Fatalf("limits: %d %v", code, out)
	}
	if sb.Graph.MailboxLimits() != emugraph.GraphMailboxLimits {
		t.Fatalf("limits in force: %+v", sb.Graph.MailboxLimits())
	}
	if code, _ := do("POST", "/sandbox/limits", url.Values{"requests": {"5"}}); code != http.StatusBadRequest {
		t.Fatalf("requests without window: %d", code)
	}
	if code, out := do("GET", "/sandbox/limits", nil); code != http.StatusOK || out["requests"] != 10000.0 {
		t.Fatalf("get limits: %d %v", code, out)
	}
}
