package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// decodeJSON reads a JSON body strictly: one object, no unknown fields, so
// a typo in a field name is an error rather than silently ignored.
func decodeJSON(c *fiber.Ctx, into any) error {
	if ct := string(c.Request().Header.ContentType()); !strings.HasPrefix(strings.ToLower(ct), fiber.MIMEApplicationJSON) {
		return scheduler.Errorf(scheduler.ECodeInvalid, "Send the body as application/json.")
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return scheduler.Wrap(scheduler.ECodeInvalid, jsonProblem(err), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return scheduler.Errorf(scheduler.ECodeInvalid, "The body must hold a single JSON object.")
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tim *time.ParseError
	switch {
	case errors.As(err, &syn):
		return "The body is not valid JSON (at byte " + strconv.FormatInt(syn.Offset, 10) + ")."
	case errors.As(err, &typ):
		return "The field " + strconv.Quote(typ.Field) + " has the wrong type."
	case errors.As(err, &tim):
		return "A time is not in RFC 3339 format (e.g. 2026-12-01T09:00:00Z)."
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "Unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "."
	case errors.Is(err, io.EOF):
		return "The body is empty."
	}
	return "The body could not be read as JSON."
}

// caller returns the principal and their profile (from the session).
func (s *Server) caller(c *fiber.Ctx) (scheduler.Principal, scheduler.Profile, error) {
	p := principal(c)
	prof, err := s.deps.Sessions.Profile(c.UserContext(), p)
	return p, prof, err
}

func (s *Server) createMeeting(c *fiber.Ctx) error {
	var req meeting.Request
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, prof, err := s.caller(c)
	if err != nil {
		return err
	}
	m, err := s.deps.Meetings.Create(c.UserContext(), p, prof, req, c.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	c.Location("/api/v1/meetings/" + m.ID)
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) listMeetings(c *fiber.Ctx) error {
	start, err1 := time.Parse(time.RFC3339, c.Query("start"))
	end, err2 := time.Parse(time.RFC3339, c.Query("end"))
	if err1 != nil || err2 != nil {
		return scheduler.Errorf(scheduler.ECodeInvalid, "Give start and end as RFC 3339 times.")
	}
	p, prof, err := s.caller(c)
	if err != nil {
		return err
	}
	list, err := s.deps.Meetings.List(c.UserContext(), p, prof, c.Query("mailbox"), start, end, c.Query("locale"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"value": list})
}

func (s *Server) getMeeting(c *fiber.Ctx) error {
	p, prof, err := s.caller(c)
	if err != nil {
		return err
	}
	m, err := s.deps.Meetings.Get(c.UserContext(), p, prof, c.Params("id"), c.Query("locale"))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) patchMeeting(c *fiber.Ctx) error {
	var patch meeting.Patch
	if err := decodeJSON(c, &patch); err != nil {
		return err
	}
	p, prof, err := s.caller(c)
	if err != nil {
		return err
	}
	m, err := s.deps.Meetings.Update(c.UserContext(), p, prof, c.Params("id"), patch)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) deleteMeeting(c *fiber.Ctx) error {
	cancel := c.QueryBool("cancelEvent", false)
	comment := c.Query("comment")
	if len(comment) > 2000 {
		return scheduler.Errorf(scheduler.ECodeInvalid, "The cancellation message is longer than 2000 characters.")
	}
	if err := s.deps.Meetings.Delete(c.UserContext(), principal(c), c.Params("id"), cancel, comment); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) writeCalendar(c *fiber.Ctx) error {
	var body struct {
		EventID string `json:"eventId"`
		Locale  string `json:"locale"`
	}
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &body); err != nil {
			return err
		}
	}
	p, prof, err := s.caller(c)
	if err != nil {
		return err
	}
	m, err := s.deps.Meetings.WriteCalendar(c.UserContext(), p, prof, c.Params("id"), body.EventID, body.Locale)
	if err != nil {
		return err
	}
	return c.JSON(m)
}
