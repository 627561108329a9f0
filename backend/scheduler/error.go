package scheduler

import (
	"errors"
	"fmt"
)

// Error codes are part of the HTTP contract (DESIGN §4): stable snake_case
// strings that clients may switch on. httpapi maps each to a status.
const (
	ECodeInvalid          = "invalid_request"
	ECodeUnauthenticated  = "unauthenticated"
	ECodeForbidden        = "forbidden"
	ECodeNotFound         = "not_found"
	ECodeConflict         = "conflict"
	ECodePreconditionFail = "precondition_failed"
	ECodeTooLarge         = "request_too_large"
	ECodeRateLimited      = "rate_limited"
	ECodeUnavailable      = "service_unavailable"
	ECodeStoreUnavailable = "store_unavailable"
	ECodeGraphUnavailable = "graph_unavailable"
	ECodeGraphThrottled   = "graph_throttled"
	ECodeGraphError       = "graph_error"
	ECodeOBOFailed        = "token_exchange_failed"
	ECodeConsentRequired  = "consent_required"
	ECodeInternal         = "internal"

	// Token validation failures; each answers 401.
	ECodeTokenMissing      = "token_missing"
	ECodeTokenMalformed    = "token_malformed"
	ECodeTokenAlgorithm    = "token_algorithm_not_allowed"
	ECodeTokenUnknownKey   = "token_unknown_key"
	ECodeTokenSignature    = "token_signature_invalid"
	ECodeTokenAudience     = "token_audience_invalid"
	ECodeTokenIssuer       = "token_issuer_invalid"
	ECodeTokenTenant       = "token_tenant_not_allowed"
	ECodeTokenExpired      = "token_expired"
	ECodeTokenNotYetValid  = "token_not_yet_valid"
	ECodeTokenScope        = "token_scope_missing"
	ECodeTokenVersion      = "token_version_unsupported"
	ECodeTokenKeysFetching = "token_keys_unavailable"
)

// Error is an error a person may see: a stable code and a sentence that
// carries no internal detail. Wrap the cause in Err for logs.
type Error struct {
	Code    string
	Message string
	// RetryAfter, when set, tells the client how many seconds to wait.
	RetryAfter int
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error carrying cause for logging.
func Wrap(code, message string, cause error) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// ECodeInternal for anything else (nil gives "").
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECodeInternal
}

// ErrorMessage returns the human sentence of err, never internal detail.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// ErrNotFound is returned by stores when a key does not exist.
var ErrNotFound = &Error{Code: ECodeNotFound, Message: "Not found."}
