package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	scheduler.ECodeInvalid:          http.StatusBadRequest,
	scheduler.ECodeUnauthenticated:  http.StatusUnauthorized,
	scheduler.ECodeForbidden:        http.StatusForbidden,
	scheduler.ECodeNotFound:         http.StatusNotFound,
	scheduler.ECodeConflict:         http.StatusConflict,
	scheduler.ECodePreconditionFail: http.StatusPreconditionFailed,
	scheduler.ECodeTooLarge:         http.StatusRequestEntityTooLarge,
	scheduler.ECodeRateLimited:      http.StatusTooManyRequests,
	scheduler.ECodeUnavailable:      http.StatusServiceUnavailable,
	scheduler.ECodeStoreUnavailable: http.StatusServiceUnavailable,
	scheduler.ECodeGraphUnavailable: http.StatusBadGateway,
	scheduler.ECodeGraphThrottled:   http.StatusServiceUnavailable,
	scheduler.ECodeGraphError:       http.StatusBadGateway,
	scheduler.ECodeOBOFailed:        http.StatusUnauthorized,
	scheduler.ECodeConsentRequired:  http.StatusForbidden,
	scheduler.ECodeInternal:         http.StatusInternalServerError,
	scheduler.ECodeAdminRequired:    http.StatusForbidden,
	scheduler.ECodeVersionConflict:  http.StatusConflict,

	scheduler.ECodeTokenMissing:      http.StatusUnauthorized,
	scheduler.ECodeTokenMalformed:    http.StatusUnauthorized,
	scheduler.ECodeTokenAlgorithm:    http.StatusUnauthorized,
	scheduler.ECodeTokenUnknownKey:   http.StatusUnauthorized,
	scheduler.ECodeTokenSignature:    http.StatusUnauthorized,
	scheduler.ECodeTokenAudience:     http.StatusUnauthorized,
	scheduler.ECodeTokenIssuer:       http.StatusUnauthorized,
	scheduler.ECodeTokenTenant:       http.StatusUnauthorized,
	scheduler.ECodeTokenExpired:      http.StatusUnauthorized,
	scheduler.ECodeTokenNotYetValid:  http.StatusUnauthorized,
	scheduler.ECodeTokenScope:        http.StatusUnauthorized,
	scheduler.ECodeTokenVersion:      http.StatusUnauthorized,
	scheduler.ECodeTokenKeysFetching: http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status for an error code (500 when unknown).
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// errorHandler answers every error with the DESIGN §4 envelope. Errors
// that are not ours become "500 internal" with no internal detail; the
// cause goes to the log with the request ID only.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	var body errorBody
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &fe):
		status = fe.Code
		body.Error.Code, body.Error.Message = fiberCode(fe.Code), http.StatusText(fe.Code)+"."
	default:
		code := scheduler.ErrorCode(err)
		status = StatusOf(code)
		body.Error.Code, body.Error.Message = code, scheduler.ErrorMessage(err)
		var se *scheduler.Error
		if errors.As(err, &se) && se.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(se.RetryAfter))
		}
	}
	if status >= 500 {
		s.log.LogAttrs(c.UserContext(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("code", body.Error.Code), slog.String("cause", err.Error()))
	}
	return c.Status(status).JSON(body)
}

func fiberCode(status int) string {
	switch status {
	case http.StatusNotFound:
		return scheduler.ECodeNotFound
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return scheduler.ECodeTooLarge
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return scheduler.ECodeInvalid
	case http.StatusRequestTimeout:
		return "request_timeout"
	case http.StatusTooManyRequests:
		return scheduler.ECodeRateLimited
	case http.StatusServiceUnavailable:
		return scheduler.ECodeUnavailable
	}
	if status >= 500 {
		return scheduler.ECodeInternal
	}
	return scheduler.ECodeInvalid
}
