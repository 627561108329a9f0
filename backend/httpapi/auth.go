package httpapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

const principalLocal = "principal"

// authenticate accepts the add-in's SSO token as a bearer token.
func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, token, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Bearer") {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer`)
		return scheduler.Errorf(scheduler.ECodeTokenMissing, "A bearer token is required.")
	}
	p, err := s.deps.Validator.Validate(c.UserContext(), strings.TrimSpace(token))
	if err != nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer error="invalid_token"`)
		return err
	}
	c.Locals(principalLocal, p)
	return c.Next()
}

func principal(c *fiber.Ctx) scheduler.Principal {
	p, _ := c.Locals(principalLocal).(scheduler.Principal)
	return p
}

// me answers GET /api/v1/me from the session, reading the directory only
// on the first call of a sign-in.
func (s *Server) me(c *fiber.Ctx) error {
	prof, err := s.deps.Sessions.Profile(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(prof)
}
