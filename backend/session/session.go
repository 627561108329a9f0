// Package session remembers who a caller is between requests: the first
// call of a sign-in reads the profile from the directory, later calls find
// it sealed in the session store, on whichever replica they land.
package session

import (
	"context"
	"encoding/json"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// DefaultIdle is how long an unused session lives.
const DefaultIdle = 8 * time.Hour

// Manager finds or creates the session of a principal.
type Manager struct {
	Store     scheduler.SessionStore
	Box       *secret.Box
	Directory scheduler.Directory
	Idle      time.Duration
	Now       func() time.Time
}

// ID is the session ID of a token-authenticated user: derived, so every
// replica finds the same session without a cookie, and opaque.
func (m *Manager) ID(p scheduler.Principal) string {
	return m.Box.Key("session", p.TID, p.OID)
}

func (m *Manager) idle() time.Duration {
	if m.Idle > 0 {
		return m.Idle
	}
	return DefaultIdle
}

// Profile returns the principal's profile from the session, reading it
// from the directory (and saving a new session) when there is none.
func (m *Manager) Profile(ctx context.Context, p scheduler.Principal) (scheduler.Profile, error) {
	id := m.ID(p)
	s, err := m.Store.Session(ctx, id, m.idle())
	switch {
	case err == nil && s.OID == p.OID && s.TID == p.TID:
		if prof, err := m.open(id, s); err == nil {
			return prof, nil
		}
	case err != nil && scheduler.ErrorCode(err) != scheduler.ECodeNotFound:
		return scheduler.Profile{}, err
	}
	prof, err := m.Directory.Me(ctx, p)
	if err != nil {
		return scheduler.Profile{}, err
	}
	if err := m.Save(ctx, id, p, prof); err != nil {
		return scheduler.Profile{}, err
	}
	return prof, nil
}

// Save stores a session for p holding prof, sealed.
func (m *Manager) Save(ctx context.Context, id string, p scheduler.Principal, prof scheduler.Profile) error {
	plain, err := json.Marshal(prof)
	if err != nil {
		return err
	}
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	s := scheduler.Session{OID: p.OID, TID: p.TID, Created: now().UTC(), Profile: m.Box.Seal(plain, "sess:"+id)}
	return m.Store.SaveSession(ctx, id, s, m.idle())
}

// open unseals a session's profile; a session sealed with another key
// (after key rotation) simply counts as missing.
func (m *Manager) open(id string, s scheduler.Session) (scheduler.Profile, error) {
	plain, err := m.Box.Open(s.Profile, "sess:"+id)
	if err != nil {
		return scheduler.Profile{}, err
	}
	var prof scheduler.Profile
	err = json.Unmarshal(plain, &prof)
	return prof, err
}

// Delete ends the principal's session.
func (m *Manager) Delete(ctx context.Context, p scheduler.Principal) error {
	return m.Store.DeleteSession(ctx, m.ID(p))
}
