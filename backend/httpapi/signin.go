package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// WebSignIn is browser sign-in (entra.WebSignIn).
type WebSignIn interface {
	Start(ctx context.Context, loginHint string) (string, entra.Flow, error)
	Finish(ctx context.Context, f entra.Flow, state, code string) (entra.SignedIn, error)
}

const flowCookie = "ws_signin"

// cookieName adds the __Host- prefix wherever the cookie can be Secure:
// the browser then pins it to this host and path /.
func (s *Server) cookieName(base string) string {
	if s.secureCookies() {
		return "__Host-" + base
	}
	return base
}

func (s *Server) secureCookies() bool { return strings.HasPrefix(s.deps.PublicURL, "https://") }

// setSessionCookie sets a cookie that dies with the browser session: no
// Expires, no Max-Age, ever (the privacy promise).
func (s *Server) setSessionCookie(c *fiber.Ctx, base, value string) {
	c.Cookie(&fiber.Cookie{
		Name: s.cookieName(base), Value: value, Path: "/", HTTPOnly: true,
		Secure: s.secureCookies(), SameSite: fiber.CookieSameSiteLaxMode, SessionOnly: true,
	})
}

// authResultPage is the dialog's last page: the result travels as JSON
// data (no inline script), and auth-dialog.js hands it to the pane.
var authResultPage = template.Must(template.New("auth").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · Web Scheduler</title>
<script type="application/json" id="webscheduler-auth-result">{{.}}</script>
<script src="https://appsforoffice.microsoft.com/lib/1/hosted/office.js"></script>
<script type="module" src="/addin/auth-dialog.js"></script>
</head><body><p>Signing you in…</p></body></html>`))

type authResult struct {
	Token     string     `json:"token,omitempty"`
	ExpiresIn int        `json:"expiresIn,omitempty"`
	Error     *errorInfo `json:"error,omitempty"`
}

type errorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Server) renderAuthResult(c *fiber.Ctx, r authResult) error {
	s.setSessionCookie(c, flowCookie, "") // the flow is spent
	body, _ := json.Marshal(r)
	c.Set("Content-Security-Policy", addinCSP)
	c.Set("Cache-Control", "no-store")
	c.Type("html", "utf-8")
	// html/template escapes the JSON for the script context.
	return authResultPage.Execute(c, template.JS(body))
}

// addinSignIn is the add-in's fallback when Office SSO is unavailable: the
// Office dialog opens it, it signs in with authorization code + PKCE and
// ends on a page that passes a short-lived credential for this API (an
// access_as_user token, never a Graph token) back to the pane.
func (s *Server) addinSignIn(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if e := c.Query("error"); e != "" {
		return s.renderAuthResult(c, authResult{Error: &errorInfo{Code: "sso_failed", Message: "Microsoft Entra ID did not sign you in."}})
	}
	if code := c.Query("code"); code != "" {
		f, ok := s.openFlow(c.Cookies(s.cookieName(flowCookie)))
		if !ok {
			return s.renderAuthResult(c, authResult{Error: &errorInfo{Code: "sso_failed", Message: "The sign-in took too long or came from another window; try again."}})
		}
		signed, err := s.deps.SignIn.Finish(ctx, f, c.Query("state"), code)
		if err == nil {
			_, err = s.deps.Validator.Validate(ctx, signed.AccessToken)
		}
		if err != nil {
			return s.renderAuthResult(c, authResult{Error: &errorInfo{Code: scheduler.ErrorCode(err), Message: scheduler.ErrorMessage(err)}})
		}
		return s.renderAuthResult(c, authResult{Token: signed.AccessToken, ExpiresIn: int(time.Until(signed.Expiry) / time.Second)})
	}
	url, f, err := s.deps.SignIn.Start(ctx, c.Query("login_hint"))
	if err != nil {
		return s.renderAuthResult(c, authResult{Error: &errorInfo{Code: scheduler.ErrorCode(err), Message: scheduler.ErrorMessage(err)}})
	}
	s.setSessionCookie(c, flowCookie, base64.RawURLEncoding.EncodeToString(s.deps.Box.Seal(entra.MarshalFlow(f), "signin-flow")))
	c.Set("Cache-Control", "no-store")
	return c.Redirect(url, fiber.StatusFound)
}

func (s *Server) openFlow(cookie string) (entra.Flow, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cookie)
	if err != nil || cookie == "" {
		return entra.Flow{}, false
	}
	plain, err := s.deps.Box.Open(raw, "signin-flow")
	if err != nil {
		return entra.Flow{}, false
	}
	f, err := entra.UnmarshalFlow(plain)
	return f, err == nil
}
