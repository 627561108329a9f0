package httpapi

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// RateLimits bound how many requests one client may make per minute; 0
// turns a limit off. Counters live in the RateLimiter (Redis in
// production), so a limit holds across every replica.
type RateLimits struct {
	// PerIP bounds requests from one client address that no bearer token
	// vouches for: pages, the sign-in dialog, the Jitsi directory, unknown
	// paths, and API calls whose token is refused.
	PerIP int
	// PerUser bounds API requests by one signed-in user.
	PerUser int
}

// DefaultRateLimits are generous for people and tight for scripts: a whole
// company may reach the service from one NAT address, so the address limit
// leaves room, and signed-in calls count per person instead.
var DefaultRateLimits = RateLimits{PerIP: 3000, PerUser: 300}

const rateWindow = time.Minute

// limitClient applies the per-address limit to everything that no bearer
// token vouches for. Exempt are probes, the add-in's static files (cheap,
// cacheable, and loaded by every Outlook behind a company's one address),
// QoE ingestion (its own key; reporters send in bulk), and API calls with
// a token: authenticateLimited and limitUser count those per user, or per
// address when the token is refused.
func (s *Server) limitClient(c *fiber.Ctx) error {
	p := c.Path()
	switch {
	case p == "/healthz", p == "/readyz", p == "/metrics",
		strings.HasPrefix(p, "/addin/") && p != "/addin/auth.html",
		strings.HasPrefix(p, "/api/") && c.Get(fiber.HeaderAuthorization) != "",
		strings.HasPrefix(p, qoePrefix+"/") && slices.Contains(s.deps.QoEOpenPaths, strings.TrimPrefix(p, qoePrefix)):
		return c.Next()
	}
	if err := s.rateLimit(c, "ip", s.clientAddr(c), s.deps.RateLimits.PerIP); err != nil {
		return err
	}
	return c.Next()
}

// authenticateLimited is authenticate with a refused token counted against
// the caller's address, so guessing tokens is as slow as any anonymous use.
// Follow it with limitUser.
func (s *Server) authenticateLimited(c *fiber.Ctx) error {
	err := s.authenticate(c)
	if err != nil && c.Locals(principalLocal) == nil && c.Get(fiber.HeaderAuthorization) != "" {
		if lerr := s.rateLimit(c, "ip", s.clientAddr(c), s.deps.RateLimits.PerIP); lerr != nil {
			return lerr
		}
	}
	return err
}

// limitUser counts a signed-in user's call, whether a bearer token or a
// web session signed them in.
func (s *Server) limitUser(c *fiber.Ctx) error {
	p := principal(c)
	if err := s.rateLimit(c, "user", p.TID+"/"+p.OID, s.deps.RateLimits.PerUser); err != nil {
		return err
	}
	return c.Next()
}

// rateLimit counts one request of who (an address or a user) under an
// HMAC key, so the store never holds addresses or IDs in the clear.
func (s *Server) rateLimit(c *fiber.Ctx, kind, who string, limit int) error {
	if s.deps.RateLimiter == nil || limit <= 0 {
		return nil
	}
	ok, retry, err := s.deps.RateLimiter.Allow(c.UserContext(), s.deps.Box.Key("rate", kind, who), limit, rateWindow)
	if err != nil {
		// Fail open: a store outage must not take down what needs no
		// store; requests that do need it fail with store_unavailable.
		s.log.LogAttrs(c.UserContext(), slog.LevelWarn, "rate limit not checked",
			slog.String("request_id", requestID(c)), slog.String("code", scheduler.ErrorCode(err)))
		return nil
	}
	if ok {
		return nil
	}
	secs := max(int((retry+time.Second-1)/time.Second), 1)
	return &scheduler.Error{
		Code:       scheduler.ECodeRateLimited,
		Message:    fmt.Sprintf("Too many requests; try again in %d seconds.", secs),
		RetryAfter: secs,
	}
}
