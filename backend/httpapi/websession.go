package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/session"
)

// Cookies of the Web Scheduler page; setSessionCookie adds __Host- on https.
const (
	webSessionCookie = "ws_session"
	webFlowCookie    = "ws_web_signin"
	webUserLocal     = "webuser"
)

// webUser is the signed-in person of a web session.
type webUser struct {
	id      string // the cookie's value; the store key is derived from it
	p       scheduler.Principal
	prof    scheduler.Profile
	zone    string // IANA name of the mailbox's time zone
	csrf    string
	lang    string
	expired bool // the access token ran out: sign in again
}

// webProfile is what a web session seals as its profile: the directory
// profile and the mailbox's time zone, read once at sign-in.
type webProfile struct {
	scheduler.Profile
	TimeZone string `json:"timeZone"`
}

// webToken is the sealed access token: the assertion for on-behalf-of.
type webToken struct {
	Token   string    `json:"t"`
	Expires time.Time `json:"e"`
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// webKey is where a session is stored: an HMAC of the cookie, so a copy of
// the store holds no cookie that would sign anyone in.
func (s *Server) webKey(id string) string { return s.deps.Box.Key("web-session", id) }

func (s *Server) webIdle() time.Duration {
	if s.deps.Sessions.Idle > 0 {
		return s.deps.Sessions.Idle
	}
	return session.DefaultIdle
}

// saveWebSession stores a new session under a random ID and returns it.
func (s *Server) saveWebSession(ctx context.Context, p scheduler.Principal, prof webProfile, token string, expires time.Time) (string, error) {
	id := randomToken()
	key := s.webKey(id)
	plainProf, err := json.Marshal(prof)
	if err != nil {
		return "", err
	}
	plainTok, _ := json.Marshal(webToken{Token: token, Expires: expires})
	sess := scheduler.Session{
		OID: p.OID, TID: p.TID, Created: time.Now().UTC(), Roles: p.Roles, CSRF: randomToken(),
		Profile: s.deps.Box.Seal(plainProf, "sess:"+key), Token: s.deps.Box.Seal(plainTok, "sess-token:"+key),
	}
	return id, s.deps.Sessions.Store.SaveSession(ctx, key, sess, s.webIdle())
}

// loadWebUser returns the session's user, or nil when there is none (no
// cookie, expired, or sealed with a key since rotated).
func (s *Server) loadWebUser(c *fiber.Ctx) (*webUser, error) {
	id := c.Cookies(s.cookieName(webSessionCookie))
	if id == "" {
		return nil, nil
	}
	key := s.webKey(id)
	sess, err := s.deps.Sessions.Store.Session(c.UserContext(), key, s.webIdle())
	if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var prof webProfile
	var tok webToken
	plainProf, err1 := s.deps.Box.Open(sess.Profile, "sess:"+key)
	plainTok, err2 := s.deps.Box.Open(sess.Token, "sess-token:"+key)
	if err1 != nil || err2 != nil || json.Unmarshal(plainProf, &prof) != nil || json.Unmarshal(plainTok, &tok) != nil {
		return nil, nil
	}
	return &webUser{
		id:   id,
		p:    scheduler.Principal{OID: sess.OID, TID: sess.TID, Roles: sess.Roles, Assertion: tok.Token},
		prof: prof.Profile, zone: prof.TimeZone, csrf: sess.CSRF,
		lang: webLocale(prof.PreferredLanguage, c.Get(fiber.HeaderAcceptLanguage)),
		// A minute's margin, so the on-behalf-of exchange still accepts it.
		expired: time.Now().Add(time.Minute).After(tok.Expires),
	}, nil
}

func webUserOf(c *fiber.Ctx) *webUser {
	u, _ := c.Locals(webUserLocal).(*webUser)
	return u
}

// webHeaders: a page with forms sends its own origin with them (under
// no-referrer a form's Origin is "null"), and nothing personal is cached.
func (s *Server) webHeaders(c *fiber.Ctx) error {
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// webAuth lets only signed-in people through; others go to sign-in and
// come back to where they were going.
func (s *Server) webAuth(c *fiber.Ctx) error {
	u, err := s.loadWebUser(c)
	if err != nil {
		return err
	}
	if u != nil && !u.expired {
		c.Locals(webUserLocal, u)
		return c.Next()
	}
	hint := ""
	if u != nil {
		hint = u.prof.UserPrincipalName
		if err := s.deps.Sessions.Store.DeleteSession(c.UserContext(), s.webKey(u.id)); err != nil {
			return err
		}
	}
	switch {
	case strings.HasPrefix(c.Path(), "/people"): // the page's script: JSON
		return scheduler.Errorf(scheduler.ECodeUnauthenticated, "Your session has ended; sign in again.")
	case c.Method() == fiber.MethodGet:
		q := url.Values{"next": {c.OriginalURL()}}
		if hint != "" {
			q.Set("login_hint", hint)
		}
		return c.Redirect("/signin?"+q.Encode(), fiber.StatusSeeOther)
	}
	L := webTexts[webLocale("", c.Get(fiber.HeaderAcceptLanguage))]
	return s.webErrorRetry(c, fiber.StatusUnauthorized, L["sessionEnded"], scheduler.ECodeUnauthenticated)
}

// webOrBearer accepts the add-in's bearer token or the page's session, for
// the API routes the page links to.
func (s *Server) webOrBearer(c *fiber.Ctx) error {
	if c.Get(fiber.HeaderAuthorization) != "" {
		return s.authenticateLimited(c)
	}
	u, err := s.loadWebUser(c)
	if err != nil {
		return err
	}
	if u == nil || u.expired {
		return scheduler.Errorf(scheduler.ECodeTokenMissing, "A bearer token or a Web Scheduler sign-in is required.")
	}
	c.Locals(webUserLocal, u)
	c.Locals(principalLocal, u.p)
	return c.Next()
}

// csrf guards every state-changing form: the session's token in a hidden
// field, compared in constant time, and a same-origin Origin (or Referer).
func (s *Server) csrf(c *fiber.Ctx) error {
	u := webUserOf(c)
	token := c.FormValue("csrf")
	if !s.sameOrigin(c) || u.csrf == "" || subtle.ConstantTimeCompare([]byte(token), []byte(u.csrf)) != 1 {
		return s.webError(c, fiber.StatusForbidden, webTexts[u.lang]["formExpired"], scheduler.ECodeForbidden)
	}
	return c.Next()
}

func (s *Server) sameOrigin(c *fiber.Ctx) bool {
	u, err := url.Parse(s.deps.PublicURL)
	if err != nil {
		return false
	}
	origin := u.Scheme + "://" + u.Host
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		return o == origin
	}
	r := c.Get(fiber.HeaderReferer)
	return r == origin || strings.HasPrefix(r, origin+"/")
}

// webFlow is what the page's sign-in remembers across Entra ID: the flow
// and where to go afterwards.
type webFlow struct {
	Flow []byte `json:"f"`
	Next string `json:"n"`
}

func (s *Server) sealWebFlow(f entra.Flow, next string) string {
	plain, _ := json.Marshal(webFlow{Flow: entra.MarshalFlow(f), Next: next})
	return base64.RawURLEncoding.EncodeToString(s.deps.Box.Seal(plain, "web-signin-flow"))
}

func (s *Server) openWebFlow(cookie string) (entra.Flow, string, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(cookie)
	if err != nil || cookie == "" {
		return entra.Flow{}, "", false
	}
	plain, err := s.deps.Box.Open(raw, "web-signin-flow")
	var wf webFlow
	if err != nil || json.Unmarshal(plain, &wf) != nil {
		return entra.Flow{}, "", false
	}
	f, err := entra.UnmarshalFlow(wf.Flow)
	return f, localPath(wf.Next), err == nil
}

// localPath keeps a return address on this site: a path, never another
// origin ("//evil", "/\evil" and absolute URLs become /meetings).
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/meetings"
	}
	return next
}
