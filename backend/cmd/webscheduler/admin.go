package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/graph"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
	"github.com/webscheduler/webscheduler/backend/settings"
	"github.com/webscheduler/webscheduler/backend/tracking"
)

// settingsPoll is how often a replica looks for settings another replica
// changed.
const settingsPoll = 2 * time.Second

// adminStores keep the admin settings, the audit log, refresh jobs and
// change tracking: the Redis store when there is one, else memory.
type adminStores interface {
	scheduler.SettingsStore
	scheduler.JobStore
	scheduler.TrackingStore
}

func adminStoresFor(st any) adminStores {
	if a, ok := st.(adminStores); ok {
		return a
	}
	return inmem.NewAdmin()
}

// adminWiring is what the admin parts are built from.
type adminWiring struct {
	base      conferencing.Settings
	provider  string
	box       *secret.Box
	stores    scheduler.ConferenceStore
	admin     adminStores
	meetings  conferencing.OnlineMeetings // the Teams provider's Graph client
	graphURL  string
	authority string
	tenant    string
	creds     entra.Credentials
	transport http.RoundTripper
	tune      func(*refresh.Engine, *tracking.Tracker)
}

// adminParts are the admin features, running.
type adminParts struct {
	settings *settings.Service
	provider scheduler.Provider
	jitsi    http.Handler
	refresh  *refresh.Engine
	tracker  *tracking.Tracker
	// stop ends the background work (settings watch, job runner, tracker).
	stop func() error
	// wiring is what they were built from.
	wiring adminWiring
}

// buildProvider makes the configured provider for some settings.
func (w adminWiring) buildProvider(s conferencing.Settings) scheduler.Provider {
	if w.provider == conferencing.ProviderTeams {
		return conferencing.NewTeams(s, w.meetings, w.box)
	}
	return conferencing.NewTemplate(s, w.box)
}

// renderer renders a refresh job's blocks with its snapshot's settings
// and templates, through the same meeting service that wrote them.
func (w adminWiring) renderer() refresh.Renderer {
	return func(sn settings.Snapshot) (refresh.Blocks, *joininfo.Templates, error) {
		s, t, err := sn.Parse()
		if err != nil {
			return nil, nil, err
		}
		return &meeting.Service{Conferences: w.stores, Provider: w.buildProvider(s), Templates: t, Box: w.box}, t, nil
	}
}

// tenantCalendars is the app-only Graph client admin jobs use.
func (w adminWiring) tenantCalendars() (*graph.Tenant, error) {
	cred, err := entra.AppCredential(w.authority, w.tenant, w.creds, &http.Client{Transport: w.transport, Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	c, err := graph.New(graph.Config{BaseURL: w.graphURL, Credential: cred, Transport: w.transport})
	if err != nil {
		return nil, err
	}
	return graph.NewTenant(c), nil
}

// startAdmin loads the admin settings and starts what follows them: the
// providers and Jitsi directory rebuilt when they change, the refresh job
// runner and change tracking.
func startAdmin(ctx context.Context, w adminWiring, log *slog.Logger) (adminParts, error) {
	svc, err := settings.New(ctx, settings.Options{Base: w.base, Store: w.admin, Log: log})
	if err != nil {
		return adminParts{}, err
	}
	tenant, err := w.tenantCalendars()
	if err != nil {
		return adminParts{}, err
	}
	p := adminParts{
		wiring:   w,
		settings: svc,
		provider: followProvider(settings.Follow(svc, func(e *settings.Effective) scheduler.Provider { return w.buildProvider(e.Settings) })),
		jitsi: followHandler(settings.Follow(svc, func(e *settings.Effective) http.Handler {
			return conferencing.NewJitsiDirectory(w.stores, e.Settings)
		})),
		refresh: &refresh.Engine{Graph: tenant, Store: w.admin, Box: w.box, Render: w.renderer(), Log: log},
	}
	p.tracker = &tracking.Tracker{Graph: tenant, Store: w.admin, Conferences: w.stores, Settings: svc, Blocks: w.renderer(), Log: log}
	if w.tune != nil {
		w.tune(p.refresh, p.tracker)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { svc.Watch(runCtx, settingsPoll) })
	wg.Go(func() { (&refresh.Runner{Engine: p.refresh}).Run(runCtx) })
	wg.Go(func() { p.tracker.Run(runCtx) })
	p.stop = func() error {
		cancel()
		wg.Wait()
		return nil
	}
	return p, nil
}

// followProvider is a provider that is always the one for the settings
// in force.
type followProvider func() scheduler.Provider

var _ scheduler.Provider = followProvider(nil)

func (f followProvider) Name() string { return f().Name() }

func (f followProvider) NewConference(ctx context.Context, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	return f().NewConference(ctx, req)
}

func (f followProvider) Details(ctx context.Context, c scheduler.Conference) (scheduler.JoinDetails, error) {
	return f().Details(ctx, c)
}

func (f followProvider) UpdateConference(ctx context.Context, c scheduler.Conference, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	return f().UpdateConference(ctx, c, req)
}

func (f followProvider) FreeConference(ctx context.Context, c scheduler.Conference, p scheduler.Principal) error {
	return f().FreeConference(ctx, c, p)
}

// followHandler serves with the handler for the settings in force.
type followHandler func() http.Handler

func (f followHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) { f().ServeHTTP(w, r) }
