package scheduler

import (
	"context"
	"time"
)

// Session is what the service remembers about a signed-in user between
// requests (DESIGN §5). Everything that names the person is sealed: only
// the opaque directory IDs stay readable.
type Session struct {
	OID     string    `json:"oid"`
	TID     string    `json:"tid"`
	Created time.Time `json:"created"`
	// Profile is the sealed (encrypted) JSON of the user's Profile.
	Profile []byte `json:"profile,omitempty"`
	// Roles are the app roles of the sign-in (web sessions only).
	Roles []string `json:"roles,omitempty"`
	// CSRF is the per-session anti-forgery token (web sessions only).
	CSRF string `json:"csrf,omitempty"`
	// Token is the sealed access token of the web sign-in, the assertion
	// for on-behalf-of (web sessions only).
	Token []byte `json:"token,omitempty"`
}

// SessionStore keeps sessions under opaque IDs with a sliding idle timeout.
type SessionStore interface {
	// Session returns the session and extends its idle timeout to idle.
	// A missing or expired session is ErrNotFound.
	Session(ctx context.Context, id string, idle time.Duration) (Session, error)
	// SaveSession stores s under id for idle.
	SaveSession(ctx context.Context, id string, s Session, idle time.Duration) error
	// DeleteSession removes the session; deleting a missing one is no error.
	DeleteSession(ctx context.Context, id string) error
}

// TokenCache keeps sealed Graph tokens until they expire.
type TokenCache interface {
	// Token returns the sealed token stored under key, or ErrNotFound.
	Token(ctx context.Context, key string) ([]byte, error)
	// SaveToken stores a sealed token under key for ttl.
	SaveToken(ctx context.Context, key string, sealed []byte, ttl time.Duration) error
}

// Pinger reports whether a backing store answers; /readyz uses it.
type Pinger interface {
	Ping(ctx context.Context) error
}
