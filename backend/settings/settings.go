// Package settings keeps the admin's settings in force: the conferencing
// settings file, with the changes an admin made through the admin API on
// top (Redis ws:settings, versioned), the join-information templates per
// locale, the auto-add policy and change tracking. Every replica follows
// the stored version, so a change reaches all of them within seconds, and
// every change is written to the audit log (ws:audit).
package settings

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// DefaultAuditRetention is how long audit entries are kept.
const DefaultAuditRetention = 400 * 24 * time.Hour

// Locale holds one locale's join-information templates.
type Locale struct {
	HTML string `json:"html"`
	Text string `json:"text"`
}

// Tracking configures change tracking (changes made outside the add-in).
type Tracking struct {
	Enabled bool `json:"enabled"`
	// Repair re-writes a join block deleted in another client; otherwise
	// such meetings are only flagged for the admin.
	Repair bool `json:"repair"`
}

// Override is what an admin changed over the settings file: the document
// stored under ws:settings. It holds no secret (the settings have none),
// so it is stored in the clear.
type Override struct {
	Settings  *conferencing.Settings `json:"settings,omitempty"`
	Templates map[string]Locale      `json:"templates,omitempty"` // nil: the built-in ones
	Tracking  Tracking               `json:"tracking"`
	Updated   time.Time              `json:"updated"`
	UpdatedBy string                 `json:"updatedBy"` // the admin's object ID
}

// Effective is the settings in force. It is never modified: a change
// makes a new one.
type Effective struct {
	Version  int64
	Settings conferencing.Settings
	// Templates are parsed from Sources.
	Templates *joininfo.Templates
	Sources   map[string]Locale
	// BuiltinTemplates is true while no admin has set templates.
	BuiltinTemplates bool
	Tracking         Tracking
	Updated          time.Time
	UpdatedBy        string
	// Problem says why a stored override could not be applied (the
	// service then keeps the file's settings); "" normally.
	Problem string
}

// Snapshot is an Effective as refresh jobs store it, to render every
// meeting of a job with the same settings on any worker.
type Snapshot struct {
	Version   int64                 `json:"version"`
	Settings  conferencing.Settings `json:"settings"`
	Templates map[string]Locale     `json:"templates"`
}

// Snapshot returns e for a refresh job.
func (e *Effective) Snapshot() Snapshot {
	return Snapshot{Version: e.Version, Settings: e.Settings, Templates: e.Sources}
}

// Parse turns a snapshot back into settings and templates.
func (sn Snapshot) Parse() (conferencing.Settings, *joininfo.Templates, error) {
	t, err := parseSources(sn.Templates)
	return sn.Settings, t, err
}

// Service serves the settings in force and changes them.
type Service struct {
	base      conferencing.Settings
	store     scheduler.SettingsStore
	log       *slog.Logger
	now       func() time.Time
	retention time.Duration

	cur    atomic.Pointer[Effective]
	reload sync.Mutex // one reload at a time, so versions only move forward
}

// Options configure a Service.
type Options struct {
	// Base are the settings from the file (or the sandbox's built-in ones).
	Base  conferencing.Settings
	Store scheduler.SettingsStore
	Log   *slog.Logger
	// AuditRetention defaults to DefaultAuditRetention.
	AuditRetention time.Duration
	Now            func() time.Time
}

// notLoaded is the version of the file's settings in force while the
// store could not be read: the next reload that reaches it loads its
// override, whatever version that has.
const notLoaded = -1

// New loads the settings in force. When the store does not answer, the
// service starts with the file's settings (Problem says so) and Watch
// loads the admins' changes once it does: a replica must start, and
// report itself unready, while Redis is down.
func New(ctx context.Context, o Options) (*Service, error) {
	s := &Service{base: o.Base, store: o.Store, log: o.Log, now: o.Now, retention: o.AuditRetention}
	if s.now == nil {
		s.now = time.Now
	}
	if s.retention == 0 {
		s.retention = DefaultAuditRetention
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.Reload(ctx); err != nil {
		if scheduler.ErrorCode(err) != scheduler.ECodeStoreUnavailable {
			return nil, err
		}
		s.log.Warn("admin settings not loaded yet; using the settings file until the store answers", "err", err.Error())
		e := s.effective(nil, notLoaded)
		e.Problem = "The store did not answer; the settings file applies until it does."
		s.cur.Store(e)
	}
	return s, nil
}

// Current returns the settings in force.
func (s *Service) Current() *Effective { return s.cur.Load() }

// Render renders a join block with the current templates; the meeting
// service renders through it, so new templates apply at once.
func (s *Service) Render(locale string, m joininfo.Meeting) (joininfo.Block, error) {
	return s.Current().Templates.Render(locale, m)
}

// Reload reads the stored version and, when it moved, the override.
func (s *Service) Reload(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	if cur := s.cur.Load(); cur != nil {
		v, err := s.store.SettingsVersion(ctx)
		if err != nil {
			return err
		}
		if v == cur.Version {
			return nil
		}
	}
	doc, version, err := s.store.LoadSettings(ctx)
	if err != nil {
		return err
	}
	e := s.effective(doc, version)
	if e.Problem != "" {
		s.log.Error("admin settings override not applied; using the settings file", "version", version, "problem", e.Problem)
	} else if cur := s.cur.Load(); cur != nil {
		s.log.Info("admin settings changed", "version", version)
	}
	s.cur.Store(e)
	return nil
}

// Watch reloads every interval until ctx ends.
func (s *Service) Watch(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Reload(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("reloading admin settings", "err", err.Error())
			}
		}
	}
}

// effective applies an override document to the base settings.
func (s *Service) effective(doc []byte, version int64) *Effective {
	builtinHTML, builtinText := joininfo.DefaultSources()
	e := &Effective{Version: version, Settings: s.base, Sources: joinSources(builtinHTML, builtinText), BuiltinTemplates: true}
	e.Templates, _ = parseSources(e.Sources)
	if len(doc) == 0 {
		return e
	}
	var o Override
	if err := json.Unmarshal(doc, &o); err != nil {
		e.Problem = "the stored override is not valid JSON"
		return e
	}
	e.Tracking, e.Updated, e.UpdatedBy = o.Tracking, o.Updated, o.UpdatedBy
	if o.Settings != nil {
		if err := s.checkSettings(*o.Settings); err != nil {
			e.Problem = err.Error()
			return e
		}
		e.Settings = *o.Settings
	}
	if o.Templates != nil {
		t, err := parseSources(o.Templates)
		if err != nil {
			e.Problem = err.Error()
			return e
		}
		e.Templates, e.Sources, e.BuiltinTemplates = t, o.Templates, false
	}
	return e
}

func joinSources(htmlByLocale, textByLocale map[string]string) map[string]Locale {
	out := map[string]Locale{}
	for loc, h := range htmlByLocale {
		out[loc] = Locale{HTML: h, Text: textByLocale[loc]}
	}
	return out
}

func parseSources(src map[string]Locale) (*joininfo.Templates, error) {
	h, t := map[string]string{}, map[string]string{}
	for loc, l := range src {
		h[loc], t[loc] = l.HTML, l.Text
	}
	return joininfo.ParseTemplates(h, t)
}

// checkSettings validates settings an admin sends: the provider belongs
// to the deployment (its credentials and permissions differ), so only the
// settings file or WEBSCHEDULER_PROVIDER choose it.
func (s *Service) checkSettings(n conferencing.Settings) error {
	if n.Provider != s.base.Provider {
		return scheduler.Errorf(scheduler.ECodeInvalid, "The provider is %q; it is chosen by the deployment (WEBSCHEDULER_PROVIDER or the settings file), not here.", s.base.Provider)
	}
	if err := n.Validate(); err != nil {
		return scheduler.Wrap(scheduler.ECodeInvalid, "The settings are not valid: "+err.Error(), err)
	}
	return nil
}

// change applies edit to the stored override if it is still at ifVersion
// (any version when ifVersion < 0), stores it as the next version and
// audits it.
func (s *Service) change(ctx context.Context, actor string, ifVersion int64, action string, edit func(*Override) error) (*Effective, error) {
	doc, version, err := s.store.LoadSettings(ctx)
	if err != nil {
		return nil, err
	}
	if ifVersion >= 0 && ifVersion != version {
		return nil, scheduler.Errorf(scheduler.ECodeVersionConflict, "The settings were changed meanwhile (version %d, not %d); reload them and try again.", version, ifVersion)
	}
	var o Override
	if len(doc) > 0 {
		if err := json.Unmarshal(doc, &o); err != nil {
			return nil, fmt.Errorf("settings: stored override: %w", err)
		}
	}
	before := s.effective(doc, version)
	if err := edit(&o); err != nil {
		return nil, err
	}
	o.Updated, o.UpdatedBy = s.now().UTC(), actor
	next, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	after := s.effective(next, version+1)
	if after.Problem != "" {
		return nil, scheduler.Errorf(scheduler.ECodeInvalid, "%s", after.Problem)
	}
	changes := diff(before, after)
	if len(changes) == 0 {
		return before, nil
	}
	v, err := s.store.SaveSettings(ctx, next, version)
	if err != nil {
		return nil, err
	}
	if err := s.Audit(ctx, scheduler.AuditEntry{Actor: actor, Action: action, Version: v, Changes: changes}); err != nil {
		// The change is in force; a missing audit entry must still be seen.
		s.log.Error("writing the audit log", "action", action, "version", v, "err", err.Error())
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s.Current(), nil
}

// UpdateSettings replaces the conferencing settings (provider excepted).
func (s *Service) UpdateSettings(ctx context.Context, actor string, ifVersion int64, n conferencing.Settings) (*Effective, error) {
	if err := s.checkSettings(n); err != nil {
		return nil, err
	}
	return s.change(ctx, actor, ifVersion, "settings.update", func(o *Override) error {
		o.Settings = &n
		return nil
	})
}

// UpdatePolicy sets the auto-add policy alone.
func (s *Service) UpdatePolicy(ctx context.Context, actor string, ifVersion int64, autoAdd bool) (*Effective, error) {
	return s.change(ctx, actor, ifVersion, "policy.update", func(o *Override) error {
		if o.Settings == nil {
			base := s.base
			o.Settings = &base
		}
		o.Settings.AutoAdd = autoAdd
		return nil
	})
}

// UpdateTemplates replaces the templates; nil restores the built-in ones.
func (s *Service) UpdateTemplates(ctx context.Context, actor string, ifVersion int64, src map[string]Locale) (*Effective, error) {
	if src != nil {
		if _, err := parseSources(src); err != nil {
			return nil, scheduler.Wrap(scheduler.ECodeInvalid, "The templates are not valid: "+err.Error(), err)
		}
	}
	return s.change(ctx, actor, ifVersion, "templates.update", func(o *Override) error {
		o.Templates = src
		return nil
	})
}

// UpdateTracking turns change tracking on or off.
func (s *Service) UpdateTracking(ctx context.Context, actor string, ifVersion int64, t Tracking) (*Effective, error) {
	return s.change(ctx, actor, ifVersion, "tracking.update", func(o *Override) error {
		o.Tracking = t
		return nil
	})
}

// Reset drops every change: the settings file and built-in templates
// apply again, and tracking is off.
func (s *Service) Reset(ctx context.Context, actor string, ifVersion int64) (*Effective, error) {
	return s.change(ctx, actor, ifVersion, "settings.reset", func(o *Override) error {
		*o = Override{}
		return nil
	})
}

// Audit records an admin action.
func (s *Service) Audit(ctx context.Context, e scheduler.AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	return s.store.AppendAudit(ctx, e, s.retention)
}

// AuditLog returns up to limit entries, newest first.
func (s *Service) AuditLog(ctx context.Context, limit int) ([]scheduler.AuditEntry, error) {
	return s.store.Audit(ctx, limit)
}

// Preview renders the sample meeting in locale with src (the current
// templates when src is nil), so an admin sees templates before saving.
func (s *Service) Preview(locale string, src map[string]Locale) (joininfo.Block, error) {
	t := s.Current().Templates
	if src != nil {
		var err error
		if t, err = parseSources(src); err != nil {
			return joininfo.Block{}, scheduler.Wrap(scheduler.ECodeInvalid, "The templates are not valid: "+err.Error(), err)
		}
	}
	m := joininfo.SampleMeeting()
	cur := s.Current().Settings
	m.DialIn = m.DialIn[:0]
	for _, n := range cur.DialIn.Numbers {
		m.DialIn = append(m.DialIn, joininfo.DialIn{Region: n.Region, Number: n.Number, Language: n.Language, TollFree: n.TollFree})
	}
	if cur.DialIn.URL != "" {
		m.DialInURL = cur.DialIn.URL
	}
	if cur.HelpURL != "" {
		m.HelpURL = cur.HelpURL
	}
	return t.Render(locale, m)
}

// Follow returns a function giving build's result for the settings in
// force, built again only when they change: for what is made from
// settings once (a provider, the Jitsi directory).
func Follow[T any](s *Service, build func(*Effective) T) func() T {
	var mu sync.Mutex
	var built *Effective
	var last T
	return func() T {
		e := s.Current()
		mu.Lock()
		defer mu.Unlock()
		if e != built {
			last, built = build(e), e
		}
		return last
	}
}

// locales returns the sorted locales of src.
func locales(src map[string]Locale) []string { return slices.Sorted(maps.Keys(src)) }
