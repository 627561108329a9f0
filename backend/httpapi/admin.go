package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/refresh"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/settings"
)

// ChangeLog lists what change tracking did about meetings changed outside
// the add-in.
type ChangeLog interface {
	Flags(ctx context.Context, limit int) ([]scheduler.ChangeFlag, error)
}

// adminFiles are the admin page's script and stylesheet.
//
//go:embed adminui
var adminFiles embed.FS

// csrfHeader carries a web session's anti-forgery token on admin API calls
// the admin page makes with the session cookie.
const csrfHeader = "X-CSRF-Token"

// registerAdmin adds the admin page and /api/v1/admin/*. It must come
// before the /api/v1 group, whose bearer-only authentication would
// otherwise refuse the admin page's cookie.
func (s *Server) registerAdmin() {
	if s.deps.Settings == nil {
		return
	}
	s.app.Get("/admin", s.adminPage)
	s.app.Use("/admin/ui", filesystem.New(filesystem.Config{Root: http.FS(adminFiles), PathPrefix: "adminui"}))

	a := s.app.Group("/api/v1/admin", s.limitBody, s.adminIdentity, s.limitUser, s.requireAdmin)
	a.Get("/settings", s.getAdminSettings)
	a.Put("/settings", s.putAdminSettings)
	a.Delete("/settings", s.resetAdminSettings)
	a.Put("/settings/policy", s.putAdminPolicy)
	a.Put("/settings/tracking", s.putAdminTracking)
	a.Get("/templates", s.getTemplates)
	a.Put("/templates", s.putTemplates)
	a.Delete("/templates", s.resetTemplates)
	a.Post("/templates/preview", s.previewTemplates)
	a.Get("/audit", s.getAudit)
	a.Get("/changes", s.getChanges)
	if s.deps.Refresh != nil {
		a.Post("/refresh", s.createRefresh)
		a.Get("/refresh", s.listRefresh)
		a.Get("/refresh/:id", s.getRefresh)
		a.Get("/refresh/:id/report.csv", s.refreshReport)
		a.Get("/stale", s.getStale)
	}
}

// adminIdentity accepts the bearer token, or the web session's cookie
// with its anti-forgery token on every request that changes something.
func (s *Server) adminIdentity(c *fiber.Ctx) error {
	if c.Get(fiber.HeaderAuthorization) != "" {
		return s.authenticateLimited(c)
	}
	u, err := s.loadWebUser(c)
	if err != nil {
		return err
	}
	if u == nil || u.expired {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer`)
		return scheduler.Errorf(scheduler.ECodeTokenMissing, "A bearer token or a Web Scheduler sign-in is required.")
	}
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		if !s.sameOrigin(c) || u.csrf == "" || subtle.ConstantTimeCompare([]byte(c.Get(csrfHeader)), []byte(u.csrf)) != 1 {
			return scheduler.Errorf(scheduler.ECodeForbidden, "The request lacks this page's anti-forgery token; reload the page.")
		}
	}
	c.Locals(principalLocal, u.p)
	return c.Next()
}

// requireAdmin lets only holders of the WebScheduler.Admin app role in.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	if !principal(c).IsAdmin() {
		return scheduler.Errorf(scheduler.ECodeAdminRequired, "This needs the WebScheduler.Admin role.")
	}
	return c.Next()
}

// ifMatch reads the version an edit is based on from If-Match ("3" or
// W/"3"); -1 when absent, which lets the last writer win.
func ifMatch(c *fiber.Ctx) (int64, error) {
	h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if h == "" || h == "*" {
		return -1, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, scheduler.Errorf(scheduler.ECodeInvalid, "If-Match must be a settings version such as \"3\".")
	}
	return v, nil
}

func setVersion(c *fiber.Ctx, v int64) { c.Set(fiber.HeaderETag, `"`+strconv.FormatInt(v, 10)+`"`) }

type adminSettingsBody struct {
	Version          int64                 `json:"version"`
	Updated          time.Time             `json:"updated,omitzero"`
	UpdatedBy        string                `json:"updatedBy,omitempty"`
	Provider         string                `json:"provider"`
	Settings         conferencing.Settings `json:"settings"`
	Tracking         settings.Tracking     `json:"tracking"`
	BuiltinTemplates bool                  `json:"builtinTemplates"`
	Problem          string                `json:"problem,omitempty"`
}

func (s *Server) settingsReply(c *fiber.Ctx, e *settings.Effective) error {
	setVersion(c, e.Version)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(adminSettingsBody{
		Version: e.Version, Updated: e.Updated, UpdatedBy: e.UpdatedBy, Provider: e.Settings.Provider,
		Settings: e.Settings, Tracking: e.Tracking, BuiltinTemplates: e.BuiltinTemplates, Problem: e.Problem,
	})
}

// current reloads first, so an admin never edits a version another
// replica has already replaced.
func (s *Server) current(c *fiber.Ctx) (*settings.Effective, error) {
	if err := s.deps.Settings.Reload(c.UserContext()); err != nil {
		return nil, err
	}
	return s.deps.Settings.Current(), nil
}

func (s *Server) getAdminSettings(c *fiber.Ctx) error {
	e, err := s.current(c)
	if err != nil {
		return err
	}
	return s.settingsReply(c, e)
}

// edit runs a settings change with the If-Match version and answers the
// settings in force afterwards.
func (s *Server) edit(c *fiber.Ctx, change func(ctx context.Context, actor string, ver int64) (*settings.Effective, error)) error {
	ver, err := ifMatch(c)
	if err != nil {
		return err
	}
	e, err := change(c.UserContext(), principal(c).OID, ver)
	if err != nil {
		return err
	}
	return s.settingsReply(c, e)
}

func (s *Server) putAdminSettings(c *fiber.Ctx) error {
	var n conferencing.Settings
	if err := decodeJSON(c, &n); err != nil {
		return err
	}
	if n.Provider == "" {
		n.Provider = s.deps.Settings.Current().Settings.Provider
	}
	return s.edit(c, func(ctx context.Context, actor string, ver int64) (*settings.Effective, error) {
		return s.deps.Settings.UpdateSettings(ctx, actor, ver, n)
	})
}

func (s *Server) resetAdminSettings(c *fiber.Ctx) error {
	return s.edit(c, s.deps.Settings.Reset)
}

func (s *Server) putAdminPolicy(c *fiber.Ctx) error {
	var body struct {
		AutoAdd *bool `json:"autoAddToNewMeetings"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.AutoAdd == nil {
		return scheduler.Errorf(scheduler.ECodeInvalid, "Give autoAddToNewMeetings (true or false).")
	}
	return s.edit(c, func(ctx context.Context, actor string, ver int64) (*settings.Effective, error) {
		return s.deps.Settings.UpdatePolicy(ctx, actor, ver, *body.AutoAdd)
	})
}

func (s *Server) putAdminTracking(c *fiber.Ctx) error {
	var t settings.Tracking
	if err := decodeJSON(c, &t); err != nil {
		return err
	}
	return s.edit(c, func(ctx context.Context, actor string, ver int64) (*settings.Effective, error) {
		return s.deps.Settings.UpdateTracking(ctx, actor, ver, t)
	})
}

type templatesBody struct {
	Version int64                      `json:"version"`
	Builtin bool                       `json:"builtin"`
	Locales map[string]settings.Locale `json:"locales"`
}

func (s *Server) templatesReply(c *fiber.Ctx, e *settings.Effective) error {
	setVersion(c, e.Version)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(templatesBody{Version: e.Version, Builtin: e.BuiltinTemplates, Locales: e.Sources})
}

func (s *Server) getTemplates(c *fiber.Ctx) error {
	e, err := s.current(c)
	if err != nil {
		return err
	}
	return s.templatesReply(c, e)
}

func (s *Server) changeTemplates(c *fiber.Ctx, src map[string]settings.Locale) error {
	ver, err := ifMatch(c)
	if err != nil {
		return err
	}
	e, err := s.deps.Settings.UpdateTemplates(c.UserContext(), principal(c).OID, ver, src)
	if err != nil {
		return err
	}
	return s.templatesReply(c, e)
}

func (s *Server) putTemplates(c *fiber.Ctx) error {
	var body struct {
		Locales map[string]settings.Locale `json:"locales"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if len(body.Locales) == 0 {
		return scheduler.Errorf(scheduler.ECodeInvalid, "Give the templates of at least the \"en\" locale; DELETE restores the built-in ones.")
	}
	return s.changeTemplates(c, body.Locales)
}

func (s *Server) resetTemplates(c *fiber.Ctx) error { return s.changeTemplates(c, nil) }

func (s *Server) previewTemplates(c *fiber.Ctx) error {
	var body struct {
		Locale  string                     `json:"locale"`
		Locales map[string]settings.Locale `json:"locales"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	b, err := s.deps.Settings.Preview(body.Locale, body.Locales)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"html": b.HTML, "text": b.Text})
}

// limitParam reads ?limit= within [1, max], default def.
func limitParam(c *fiber.Ctx, def, maxN int) int {
	n, err := strconv.Atoi(c.Query("limit"))
	if err != nil || n < 1 {
		return def
	}
	return min(n, maxN)
}

func (s *Server) getAudit(c *fiber.Ctx) error {
	entries, err := s.deps.Settings.AuditLog(c.UserContext(), limitParam(c, 100, 1000))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []scheduler.AuditEntry{}
	}
	return c.JSON(fiber.Map{"entries": entries})
}

func (s *Server) getChanges(c *fiber.Ctx) error {
	flags := []scheduler.ChangeFlag{}
	if s.deps.Changes != nil {
		f, err := s.deps.Changes.Flags(c.UserContext(), limitParam(c, 100, 1000))
		if err != nil {
			return err
		}
		flags = append(flags, f...)
	}
	return c.JSON(fiber.Map{"flags": flags, "enabled": s.deps.Settings.Current().Tracking.Enabled})
}

func (s *Server) createRefresh(c *fiber.Ctx) error {
	var body struct {
		DryRun    *bool     `json:"dryRun"`
		After     string    `json:"after"`
		Mailboxes []string  `json:"mailboxes"`
		Start     time.Time `json:"start"`
		End       time.Time `json:"end"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	switch {
	case body.DryRun == nil:
		return scheduler.Errorf(scheduler.ECodeInvalid, "Say whether this is a dry run (dryRun: true) or applies one (dryRun: false, after: its ID).")
	case !*body.DryRun && body.After == "":
		return scheduler.Errorf(scheduler.ECodeInvalid, "Run a dry run first, review its report, then apply it with after: <the dry run's ID>.")
	case len(body.Mailboxes) > 10000:
		return scheduler.Errorf(scheduler.ECodeInvalid, "List at most 10000 mailboxes; leave the list out for every mailbox.")
	}
	e, err := s.current(c)
	if err != nil {
		return err
	}
	p := principal(c)
	job, err := s.deps.Refresh.Create(c.UserContext(), refresh.Request{
		DryRun: *body.DryRun, After: body.After, Mailboxes: body.Mailboxes, Start: body.Start, End: body.End, Creator: p.OID,
	}, e)
	if err != nil {
		return err
	}
	detail := "apply " + job.ID + " after " + job.After
	if job.DryRun {
		detail = "dry run " + job.ID
	}
	if err := s.deps.Settings.Audit(c.UserContext(), scheduler.AuditEntry{Actor: p.OID, Action: "refresh.create", Version: e.Version, Detail: detail}); err != nil {
		s.log.Error("writing the audit log", "action", "refresh.create", "err", err.Error())
	}
	c.Location("/api/v1/admin/refresh/" + job.ID)
	return c.Status(fiber.StatusAccepted).JSON(job)
}

func (s *Server) listRefresh(c *fiber.Ctx) error {
	jobs, err := s.deps.Refresh.Jobs(c.UserContext(), limitParam(c, 20, 100))
	if err != nil {
		return err
	}
	if jobs == nil {
		jobs = []refresh.Job{}
	}
	return c.JSON(fiber.Map{"jobs": jobs})
}

func jobNotFound(err error) error {
	if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
		return scheduler.Errorf(scheduler.ECodeNotFound, "No such refresh job.")
	}
	return err
}

func (s *Server) getRefresh(c *fiber.Ctx) error {
	p, err := s.deps.Refresh.Progress(c.UserContext(), c.Params("id"))
	if err != nil {
		return jobNotFound(err)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(p)
}

func (s *Server) refreshReport(c *fiber.Ctx) error {
	id := c.Params("id")
	var buf bytes.Buffer
	if err := s.deps.Refresh.WriteCSV(c.UserContext(), &buf, id, c.QueryBool("stale")); err != nil {
		return jobNotFound(err)
	}
	name := "webscheduler-refresh-" + id
	if c.QueryBool("stale") {
		name += "-stale"
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// getStale answers the stale view: the newest finished dry run, its
// counts, and whether it still describes the meetings (same settings, no
// apply since); its stale rows are at report.csv?stale=true.
func (s *Server) getStale(c *fiber.Ctx) error {
	e, err := s.current(c)
	if err != nil {
		return err
	}
	jobs, err := s.deps.Refresh.Jobs(c.UserContext(), 100)
	if err != nil {
		return err
	}
	applied := false // an apply job newer than the dry run
	for _, j := range jobs {
		if !j.DryRun {
			applied = true
			continue
		}
		if j.Status != scheduler.JobDone {
			continue
		}
		p, err := s.deps.Refresh.Progress(c.UserContext(), j.ID)
		if err != nil {
			return err
		}
		stale := p.Counts[refresh.ActionUpdate] + p.Counts[refresh.ActionSkip+":"+refresh.ReasonBlockMissing] +
			p.Counts[refresh.ActionSkip+":"+refresh.ReasonBlockMismatch] + p.Counts[refresh.ActionSkip+":"+refresh.ReasonUnknown]
		return c.JSON(fiber.Map{
			"scan": p, "stale": stale, "upToDate": j.SettingsVersion == e.Version && !applied,
			"report": "/api/v1/admin/refresh/" + j.ID + "/report.csv?stale=true",
		})
	}
	return scheduler.Errorf(scheduler.ECodeNotFound, "No dry run has finished yet; start one to see which meetings are stale.")
}

// adminTemplate is the admin console's shell on the site's layout; the
// script fills it from the admin API, so the page and the API cannot
// disagree.
var adminTemplate = template.Must(pages.New("admin").Parse(`{{template "top" .}}
<link rel="stylesheet" href="/admin/ui/admin.css">
<div id="admin" data-mode="{{.Mode}}" data-csrf="{{.CSRF}}">
{{if eq .Mode "denied"}}<p role="alert">Your account does not hold the <code>WebScheduler.Admin</code> role. Ask whoever manages the app registration in Microsoft Entra ID to assign it to you.</p>
{{else}}{{if eq .Mode "token"}}<section id="signin"><h2>Sign in</h2>
<p>{{if .SignIn}}<a class="button" href="/signin?next=/admin">Sign in with Microsoft</a> or paste{{else}}Paste{{end}} an access token for this service (<code>access_as_user</code>) with the <code>WebScheduler.Admin</code> role.
{{if .Sandbox}}In the sandbox, <code>POST /sandbox/token</code> with <code>user=adele.vance@contoso.example</code> gives one.{{end}}</p>
<form id="token-form"><label>Access token <input id="token" type="password" autocomplete="off" required></label> <button>Use token</button></form></section>{{end}}
<p id="status" role="status" aria-live="polite"></p>
<div id="console" hidden>
<section><h2>Conferencing settings</h2><p id="version"></p><form id="settings-form"></form></section>
<section><h2>New meetings</h2><form id="policy-form"><label><input type="checkbox" id="autoadd"> Add join information to every new meeting</label> <button>Save</button></form></section>
<section><h2>Join information templates</h2><form id="templates-form">
<label>Locale <select id="locale"></select></label> <label>New locale <input id="new-locale" size="8" placeholder="de-CH"></label>
<label>HTML<textarea id="tmpl-html" rows="12" spellcheck="false"></textarea></label>
<label>Text<textarea id="tmpl-text" rows="8" spellcheck="false"></textarea></label>
<p><button type="button" id="preview">Preview</button> <button>Save templates</button> <button type="button" id="templates-reset">Restore built-in templates</button></p></form>
<div id="preview-out" hidden><h3>Preview</h3><iframe id="preview-html" sandbox title="HTML preview"></iframe><pre id="preview-text"></pre></div></section>
<section><h2>Refresh join information</h2>
<p>A dry run lists, per mailbox and meeting, what would change. Review its report, then apply it: only the join block is replaced, the rest of each invitation stays as its organizer wrote it.</p>
<form id="refresh-form"><label>Mailboxes (one per line; empty: every mailbox)<textarea id="mailboxes" rows="3"></textarea></label> <button>Start dry run</button></form>
<table><thead><tr><th scope="col">Job</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">Counts</th><th scope="col"></th></tr></thead><tbody id="jobs"></tbody></table>
<p id="stale"></p></section>
<section><h2>Changes made outside the add-in</h2><form id="tracking-form"><label><input type="checkbox" id="tracking"> Track changes to meetings</label> <label><input type="checkbox" id="repair"> Put back a join block deleted in another client</label> <button>Save</button></form>
<table><thead><tr><th scope="col">Time</th><th scope="col">Change</th><th scope="col">Action</th><th scope="col">Conference</th></tr></thead><tbody id="changes"></tbody></table></section>
<section><h2>Audit log</h2><table><thead><tr><th scope="col">Time</th><th scope="col">Admin</th><th scope="col">Action</th><th scope="col">Version</th><th scope="col">Changes</th></tr></thead><tbody id="audit"></tbody></table></section>
</div>{{end}}</div>
<script type="module" src="/admin/ui/admin.js"></script>
{{template "bottom"}}`))

type adminPageData struct {
	pageData
	Mode   string // session, token or denied
	CSRF   string
	SignIn bool
}

// adminPage is the admin console: a page shell whose script works through
// the admin API, with the web session's cookie when there is one (its
// anti-forgery token is in the page), otherwise with a bearer token.
func (s *Server) adminPage(c *fiber.Ctx) error {
	d := adminPageData{pageData: pageData{Title: "Administration", Sandbox: s.sandbox, PublicURL: s.deps.PublicURL}, SignIn: s.deps.SignIn != nil}
	u, err := s.loadWebUser(c)
	if err != nil {
		return err
	}
	switch {
	case u != nil && !u.expired && !u.p.IsAdmin():
		d.Mode = "denied"
		c.Status(fiber.StatusForbidden)
	case u != nil && !u.expired:
		d.Mode, d.CSRF = "session", u.csrf
	default:
		d.Mode = "token"
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin") // the script's requests carry Origin
	c.Type("html", "utf-8")
	return adminTemplate.ExecuteTemplate(c, "admin", d)
}

// autoAdd is the admin's policy for new meetings: the admin settings in
// force, or the configured one.
func (s *Server) autoAdd() bool {
	if s.deps.Settings != nil {
		return s.deps.Settings.Current().Settings.AutoAdd
	}
	return s.deps.AutoAdd
}

// dialInNumbers are the numbers the dial-in page lists, as the admin
// settings in force say when there are any.
func (s *Server) dialInNumbers() []scheduler.DialIn {
	if s.deps.Settings == nil {
		return s.deps.DialIn
	}
	var out []scheduler.DialIn
	for _, n := range s.deps.Settings.Current().Settings.DialIn.Numbers {
		out = append(out, scheduler.DialIn{Region: n.Region, Number: n.Number, Language: n.Language, TollFree: n.TollFree})
	}
	return out
}
