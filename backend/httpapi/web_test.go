package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/session"
)

type fakeSignIn struct{}

func (fakeSignIn) Start(context.Context, string) (string, entra.Flow, error) {
	return "https://login.example/authorize?state=s", entra.Flow{State: "s"}, nil
}

func (fakeSignIn) Finish(context.Context, entra.Flow, string, string) (entra.SignedIn, error) {
	return entra.SignedIn{}, nil
}

// On https every cookie of the page is __Host- prefixed and Secure, and
// still a session cookie (the sandbox's end-to-end tests cover plain HTTP).
func TestWebCookiesOnHTTPS(t *testing.T) {
	t.Parallel()
	box, _ := secret.New(secret.RandomKey())
	s := New(Deps{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicURL: "https://webscheduler.example",
		PageSignIn: fakeSignIn{}, Box: box, Sessions: &session.Manager{Store: inmem.New(), Box: box},
	})
	resp, err := s.App().Test(httptest.NewRequest(http.MethodGet, "/signin?next=/meetings/new", nil))
	if err != nil {
		t.Fatal(err)
	}
	raw := resp.Header.Values("Set-Cookie")
	if resp.StatusCode != http.StatusFound || len(raw) != 1 {
		t.Fatalf("%d %v", resp.StatusCode, raw)
	}
	c := raw[0]
	for _, want := range []string{"__Host-ws_web_signin=", "path=/", "HttpOnly", "secure", "SameSite=Lax"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
	if strings.Contains(strings.ToLower(c), "expires") || strings.Contains(strings.ToLower(c), "max-age") || strings.Contains(c, "domain") {
		t.Errorf("cookie %q is persistent or not host-only", c)
	}
	if rp := resp.Header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy %q: forms would send Origin: null", rp)
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/meetings/new?x=1": "/meetings/new?x=1", "": "/meetings", "https://evil.example/": "/meetings",
		"//evil.example": "/meetings", `/\evil.example`: "/meetings", "meetings": "/meetings", "/a\r\nSet-Cookie: x": "/meetings",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWebLocale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ preferred, accept, want string }{
		{"de-DE", "fr-FR,fr;q=0.9", "de"},
		{"", "fr-CA,fr;q=0.9,en;q=0.5", "fr"},
		{"", "ja", "ja"},
		{"", "pt-BR", "en"},
		{"", "", "en"},
		{"en-GB", "de", "en"},
	} {
		if got := webLocale(tc.preferred, tc.accept); got != tc.want {
			t.Errorf("webLocale(%q, %q) = %q, want %q", tc.preferred, tc.accept, got, tc.want)
		}
	}
	for locale, strs := range webStrings {
		for k := range webStrings["en"] {
			if _, ok := strs[k]; !ok && k != "nav" {
				t.Errorf("%s lacks %q", locale, k)
			}
		}
	}
}

func TestAddresses(t *testing.T) {
	t.Parallel()
	got := addresses("a@x.example\r\n b@x.example; A@X.example,,\n\nc@x.example ")
	if want := []string{"a@x.example", "b@x.example", "c@x.example"}; !slices.Equal(got, want) {
		t.Errorf("addresses = %q", got)
	}
}
