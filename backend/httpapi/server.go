// Package httpapi is the service's HTTP face: routes, middleware and the
// mapping from domain errors to the DESIGN §4 envelope.
package httpapi

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/session"
	"github.com/webscheduler/webscheduler/backend/settings"
)

// TokenValidator checks a bearer token (entra.Validator).
type TokenValidator interface {
	Validate(ctx context.Context, raw string) (scheduler.Principal, error)
}

// Deps is what the HTTP layer needs from the rest of the service.
type Deps struct {
	Logger    *slog.Logger
	Validator TokenValidator
	Sessions  *session.Manager
	Meetings  *meeting.Service
	// QoE serves call-quality ingestion and reports under
	// /api/v1/admin/qoe; QoEOpenPaths authenticate themselves.
	QoE          http.Handler
	QoEOpenPaths []string
	// Jitsi, when set, serves the Jitsi Meet dial-in directory under /jitsi.
	Jitsi   http.Handler
	Metrics *Metrics
	// Ready lists the stores /readyz pings.
	Ready []scheduler.Pinger
	// Sandbox, when set, serves /sandbox/* (sandbox mode only).
	Sandbox http.Handler
	// PublicURL is the origin Outlook loads the add-in from.
	PublicURL string
	// DialIn are the numbers the dial-in page lists.
	DialIn []scheduler.DialIn
	// Addin holds the add-in's static files, served under /addin/.
	Addin fs.FS
	// AutoAdd is the admin's policy: add join information to every new
	// meeting the organizer creates in Outlook.
	AutoAdd bool
	// SignIn runs browser sign-in for the add-in's fallback dialog.
	SignIn WebSignIn
	// PageSignIn runs sign-in for the Web Scheduler page (redirect
	// {PublicURL}/auth/callback); nil turns the page off.
	PageSignIn WebSignIn
	// People suggests attendees and reads mailbox time zones for the page.
	People People
	// Box seals what the service hands browsers to keep (sign-in state).
	Box *secret.Box
	// Manifest generates the add-in manifest ("xml" or "json").
	Manifest func(kind string) ([]byte, error)
	// RateLimiter counts requests for RateLimits; nil turns limits off.
	RateLimiter scheduler.RateLimiter
	RateLimits  RateLimits
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client for the per-address limit; none: the peer is the client.
	TrustedProxies []netip.Prefix
	// Settings, when set, serves the admin page and /api/v1/admin; the
	// admin's settings then also decide the add-in policy and dial-in page.
	Settings *settings.Service
	// Refresh runs bulk join-information refresh jobs (admin API).
	Refresh *refresh.Engine
	// Changes lists what change tracking did (admin API).
	Changes ChangeLog
}

// Server holds the Fiber app and its dependencies.
type Server struct {
	app     *fiber.App
	log     *slog.Logger
	deps    Deps
	sandbox bool
}

// Limits that hold for every request.
const (
	bodyLimit    = 4 << 20 // the emulated Graph takes $batch bodies up to Graph's 4 MB
	apiBodyLimit = 64 << 10
	readTimeout  = 30 * time.Second
	writeTimeout = 60 * time.Second
)

// New builds the app with every route.
func New(d Deps) *Server {
	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	s := &Server{log: d.Logger, deps: d, sandbox: d.Sandbox != nil}
	s.app = fiber.New(fiber.Config{
		AppName:               "webscheduler",
		ErrorHandler:          s.errorHandler,
		BodyLimit:             bodyLimit,
		ReadTimeout:           readTimeout,
		WriteTimeout:          writeTimeout,
		IdleTimeout:           2 * time.Minute,
		DisableStartupMessage: true,
		StrictRouting:         false,
		// Fiber hands out strings that alias reused request buffers; any
		// kept beyond the handler (metric labels, rate-limit keys, cache
		// keys) would change under our feet. Copies cost little.
		Immutable: true,
	})
	s.app.Use(requestid.New(requestid.Config{ContextKey: "requestid"}))
	s.app.Use(recover.New())
	s.app.Use(s.observe)
	s.app.Use(s.securityHeaders)
	s.app.Use(s.limitClient)

	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", netHTTP(promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})))
	s.mountStatic()
	s.app.Get("/", s.home)
	s.app.Get("/dialin", s.dialIn)
	s.app.Get("/help", s.help)
	s.app.Get("/manifest.xml", s.manifestXML)
	s.app.Get("/manifest.json", s.manifestJSON)
	s.app.Get("/manifest.zip", s.manifestZip)
	if d.SignIn != nil {
		s.app.Get("/addin/auth.html", s.addinSignIn)
	}
	if d.Addin != nil {
		s.mountAddin(d.Addin)
	}

	s.mountWeb()
	s.mountQoE()
	s.registerAdmin()
	api := s.app.Group("/api/v1", s.limitBody, s.authenticateLimited, s.limitUser)
	api.Get("/me", s.me)
	api.Get("/settings/addin", s.addinSettings)
	api.Post("/meetings", s.createMeeting)
	api.Get("/meetings", s.listMeetings)
	api.Get("/meetings/:id", s.getMeeting)
	api.Patch("/meetings/:id", s.patchMeeting)
	api.Delete("/meetings/:id", s.deleteMeeting)
	api.Put("/meetings/:id/calendar", s.writeCalendar)

	if d.Jitsi != nil {
		s.app.Use("/jitsi", netHTTP(http.StripPrefix("/jitsi", d.Jitsi)))
	}

	if d.Sandbox != nil {
		s.app.Use("/sandbox", netHTTP(d.Sandbox))
		s.app.Get("/join/:id", s.sandboxJoin)
	}
	s.app.Use(func(c *fiber.Ctx) error {
		return &scheduler.Error{Code: scheduler.ECodeNotFound, Message: "No such route."}
	})
	return s
}

// App returns the Fiber app (for Listen, Shutdown and tests).
func (s *Server) App() *fiber.App { return s.app }

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals("requestid").(string)
	return id
}

// observe logs and measures every request by its route template, never
// its path or query: those may hold addresses or authorization codes.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	route := c.Route().Path
	if strings.HasPrefix(c.Path(), "/sandbox/") {
		route = "/sandbox/*"
	}
	elapsed := time.Since(start)
	s.deps.Metrics.observe(route, c.Method(), status, elapsed)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(c.UserContext(), level, "request",
		slog.String("request_id", requestID(c)), slog.String("method", c.Method()), slog.String("route", route),
		slog.Int("status", status), slog.Duration("elapsed", elapsed))
	return nil
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	if s.secureCookies() {
		// Browsers that once reached the https origin never fall back to http.
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
	if s.sandbox {
		c.Set("X-WebScheduler-Sandbox", "1")
	}
	return c.Next()
}

// limitBody keeps API bodies small; the app-wide limit is for $batch.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if len(c.Body()) > apiBodyLimit {
		return scheduler.Errorf(scheduler.ECodeTooLarge, "The request body is larger than %d KB.", apiBodyLimit>>10)
	}
	return c.Next()
}

func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	for _, p := range s.deps.Ready {
		if err := p.Ping(ctx); err != nil {
			return scheduler.Wrap(scheduler.ECodeStoreUnavailable, "The session store is unavailable.", err)
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// netHTTP serves a net/http handler. The adaptor hands it fasthttp's
// request context, whose Done channel fasthttp's Shutdown rewrites without
// synchronisation; any context derived from it (a PostgreSQL or Redis
// call) watches that channel from another goroutine, a data race at
// shutdown. The handler gets the request's values without that channel:
// fasthttp closes it only at shutdown, which waits for requests anyway.
func netHTTP(h http.Handler) fiber.Handler {
	return adaptor.HTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
	}))
}
