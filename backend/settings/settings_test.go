package settings_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/settings"
)

const admin = "0d2d8a14-6c1e-4b3f-9a57-1e8c4b2d7f01"

func newService(t *testing.T, store scheduler.SettingsStore) *settings.Service {
	t.Helper()
	svc, err := settings.New(t.Context(), settings.Options{Base: conferencing.SandboxSettings("https://ws.example"), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestSettingsAreVersionedAndAudited(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := inmem.NewAdmin()
	svc := newService(t, store)
	cur := svc.Current()
	if cur.Version != 0 || !cur.BuiltinTemplates || cur.Settings.Provider != conferencing.ProviderTemplate {
		t.Fatalf("initial = %+v", cur)
	}

	next := cur.Settings
	next.DialIn.Numbers = append([]conferencing.DialInNumber{}, next.DialIn.Numbers...)
	next.DialIn.Numbers[0].Number = "+1 206-555-0199"
	next.HelpURL = "https://intranet.example/help"
	e, err := svc.UpdateSettings(ctx, admin, 0, next)
	if err != nil {
		t.Fatal(err)
	}
	if e.Version != 1 || e.Settings.DialIn.Numbers[0].Number != "+1 206-555-0199" || e.UpdatedBy != admin {
		t.Fatalf("after update = %+v", e)
	}
	// An edit based on version 0 is refused now.
	if _, err := svc.UpdateSettings(ctx, admin, 0, next); scheduler.ErrorCode(err) != scheduler.ECodeVersionConflict {
		t.Fatalf("stale edit: %v", err)
	}
	// The same settings again change nothing and make no version.
	if e, err := svc.UpdateSettings(ctx, admin, 1, next); err != nil || e.Version != 1 {
		t.Fatalf("no-op edit: version %d, %v", e.Version, err)
	}

	log, err := svc.AuditLog(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 || log[0].Actor != admin || log[0].Action != "settings.update" || log[0].Version != 1 {
		t.Fatalf("audit = %+v", log)
	}
	fields := map[string]scheduler.AuditChange{}
	for _, c := range log[0].Changes {
		fields[c.Field] = c
	}
	if c := fields["settings.dialIn.numbers[0].number"]; c.Old != "+1 206-555-0142" || c.New != "+1 206-555-0199" {
		t.Errorf("dial-in change = %+v (all: %+v)", c, log[0].Changes)
	}
	if c := fields["settings.helpUrl"]; c.New != "https://intranet.example/help" {
		t.Errorf("help URL change = %+v", c)
	}
	if len(fields) != 2 {
		t.Errorf("changes = %+v, want exactly the two fields", log[0].Changes)
	}
}

func TestSettingsAreValidated(t *testing.T) {
	t.Parallel()
	svc := newService(t, inmem.NewAdmin())
	bad := svc.Current().Settings
	bad.Provider = conferencing.ProviderTeams
	if _, err := svc.UpdateSettings(t.Context(), admin, -1, bad); scheduler.ErrorCode(err) != scheduler.ECodeInvalid || !strings.Contains(err.Error(), "deployment") {
		t.Fatalf("provider change: %v", err)
	}
	bad = svc.Current().Settings
	bad.Template.ConferenceIDLength = 3
	bad.DialIn.URL = "ftp://x"
	_, err := svc.UpdateSettings(t.Context(), admin, -1, bad)
	if scheduler.ErrorCode(err) != scheduler.ECodeInvalid || !strings.Contains(scheduler.ErrorMessage(err), "conferenceIdLength") || !strings.Contains(scheduler.ErrorMessage(err), "dialIn.url") {
		t.Fatalf("invalid settings: %v", err)
	}
	if svc.Current().Version != 0 {
		t.Fatal("a refused edit made a version")
	}
}

func TestReplicasFollowTheStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := inmem.NewAdmin()
	a, b := newService(t, store), newService(t, store)
	builds := 0
	followed := settings.Follow(b, func(e *settings.Effective) bool { builds++; return e.Settings.AutoAdd })
	if first, again := followed(), followed(); first || again || builds != 1 {
		t.Fatalf("before: builds %d", builds)
	}
	if _, err := a.UpdatePolicy(ctx, admin, -1, true); err != nil {
		t.Fatal(err)
	}
	if err := b.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Current().Settings.AutoAdd || b.Current().Version != 1 || !followed() || builds != 2 {
		t.Fatalf("replica b: %+v, builds %d", b.Current(), builds)
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	svc := newService(t, inmem.NewAdmin())
	src := svc.Current().Sources
	if _, err := svc.UpdateTemplates(ctx, admin, -1, map[string]settings.Locale{"de": src["de"]}); scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
		t.Fatalf("templates without en: %v", err)
	}
	broken := map[string]settings.Locale{"en": {HTML: "<div>{{.JoinURL</div>", Text: "x"}}
	if _, err := svc.Preview("en", broken); scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
		t.Fatalf("preview of a broken template: %v", err)
	}
	mine := map[string]settings.Locale{
		"en":    {HTML: `<p>Join: <a href="{{.JoinURL}}">here</a> ({{.ConferenceID}})</p>{{range .DialIn}}<p>{{.Number}}</p>{{end}}`, Text: "Join: {{.JoinURL}}"},
		"de-CH": {HTML: `<p>Teilnehmen: <a href="{{.JoinURL}}">hier</a></p>`, Text: "Teilnehmen: {{.JoinURL}}"},
	}
	b, err := svc.Preview("de-CH-x", mine)
	if err != nil || !strings.Contains(b.HTML, "Teilnehmen") {
		t.Fatalf("preview = %q, %v", b.HTML, err)
	}
	// The preview shows the numbers in force, not the sample's.
	if b, err := svc.Preview("en", mine); err != nil || !strings.Contains(b.Text+b.HTML, "206-555-0142") {
		t.Fatalf("preview numbers = %q, %v", b.HTML, err)
	}
	if svc.Current().Version != 0 {
		t.Fatal("a preview saved something")
	}
	e, err := svc.UpdateTemplates(ctx, admin, 0, mine)
	if err != nil || e.BuiltinTemplates || e.Version != 1 {
		t.Fatalf("save templates: %+v %v", e, err)
	}
	got, err := svc.Render("de-CH", joininfo.Meeting{JoinURL: "https://meet.example/1", ConferenceID: "1"})
	if err != nil || !strings.Contains(got.HTML, "Teilnehmen") {
		t.Fatalf("render with saved templates = %q, %v", got.HTML, err)
	}
	log, _ := svc.AuditLog(ctx, 1)
	if len(log) != 1 || log[0].Action != "templates.update" {
		t.Fatalf("audit = %+v", log)
	}
	for _, c := range log[0].Changes {
		if strings.Contains(c.Old+c.New, "Teilnehmen") {
			t.Fatalf("the audit log copies template text: %+v", c)
		}
	}
	if e, err := svc.UpdateTemplates(ctx, admin, 1, nil); err != nil || !e.BuiltinTemplates {
		t.Fatalf("restore built-in: %+v %v", e, err)
	}
	if e, err := svc.Reset(ctx, admin, -1); err != nil || e.Version != 2 {
		// Nothing is left to reset after restoring the templates.
		t.Fatalf("reset: version %d, %v", e.Version, err)
	}
}

var errDown = scheduler.Errorf(scheduler.ECodeStoreUnavailable, "down")

// A replica starts while the store is down, on the file's settings, and
// takes the admins' changes once the store answers.
func TestStartsWhileTheStoreIsDown(t *testing.T) {
	t.Parallel()
	store := inmem.NewAdmin()
	writer := newService(t, store)
	if _, err := writer.UpdatePolicy(t.Context(), admin, -1, true); err != nil {
		t.Fatal(err)
	}
	flaky := &switchable{SettingsStore: store}
	flaky.down.Store(true)
	svc, err := settings.New(t.Context(), settings.Options{Base: conferencing.SandboxSettings("https://ws.example"), Store: flaky})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Current().Settings.AutoAdd || svc.Current().Problem == "" {
		t.Fatalf("while down: %+v", svc.Current())
	}
	flaky.down.Store(false)
	if err := svc.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !svc.Current().Settings.AutoAdd || svc.Current().Version != 1 || svc.Current().Problem != "" {
		t.Fatalf("after the store came back: %+v", svc.Current())
	}
}

type switchable struct {
	scheduler.SettingsStore
	down atomic.Bool
}

func (s *switchable) SettingsVersion(ctx context.Context) (int64, error) {
	if s.down.Load() {
		return 0, errDown
	}
	return s.SettingsStore.SettingsVersion(ctx)
}

func (s *switchable) LoadSettings(ctx context.Context) ([]byte, int64, error) {
	if s.down.Load() {
		return nil, 0, errDown
	}
	return s.SettingsStore.LoadSettings(ctx)
}
