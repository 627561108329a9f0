package httpapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/icalendar"
	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/timezone"
)

// People answers the Web Scheduler page's questions about people (graph.Client).
type People interface {
	FindPeople(ctx context.Context, p scheduler.Principal, prefix string, top int) ([]scheduler.Attendee, error)
	MailboxTimeZone(ctx context.Context, p scheduler.Principal) (string, error)
}

// Page sizes and layouts of the Web Scheduler page.
const (
	webPageSize    = 20
	webDefaultDays = 30
	dateLayout     = "2006-01-02"
	localLayout    = "2006-01-02T15:04"
)

// mountWeb registers the Web Scheduler page: sign-in, the meeting pages
// and the iCalendar export. It runs before the /api/v1 group is made, so
// the export's cookie-or-bearer check is the one that applies to it.
func (s *Server) mountWeb() {
	if s.deps.PageSignIn == nil {
		return
	}
	s.app.Get("/api/v1/meetings/:id/ics", s.webOrBearer, s.limitUser, s.meetingICS)
	s.app.Get("/signin", s.webHeaders, s.webSignIn)
	s.app.Get("/auth/callback", s.webHeaders, s.webCallback)
	s.app.Post("/signout", s.webHeaders, s.limitBody, s.webAuth, s.csrf, s.webSignOut)
	s.app.Get("/signout", s.webHeaders, s.signedOut)
	s.app.Get("/people", s.webHeaders, s.webAuth, s.findPeople)
	g := s.app.Group("/meetings", s.webHeaders, s.limitBody, s.webAuth)
	g.Get("/", s.myMeetings)
	g.Get("/new", s.newMeetingPage)
	g.Post("/", s.csrf, s.createMeetingPage)
	g.Get("/:id", s.meetingPage)
	g.Get("/:id/edit", s.editMeetingPage)
	g.Post("/:id", s.csrf, s.updateMeetingPage)
	g.Get("/:id/delete", s.deleteMeetingPage)
	g.Post("/:id/delete", s.csrf, s.cancelMeetingPage)
}

// --- sign-in ---

func (s *Server) webSignIn(c *fiber.Ctx) error {
	next := localPath(c.Query("next"))
	if u, err := s.loadWebUser(c); err == nil && u != nil && !u.expired {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	target, f, err := s.deps.PageSignIn.Start(c.UserContext(), c.Query("login_hint"))
	if err != nil {
		return s.webFail(c, err)
	}
	s.setSessionCookie(c, webFlowCookie, s.sealWebFlow(f, next))
	return c.Redirect(target, fiber.StatusFound)
}

// webCallback finishes a sign-in: the access token is validated like any
// other, and a new session with a random ID replaces any earlier one.
func (s *Server) webCallback(c *fiber.Ctx) error {
	ctx := c.UserContext()
	L := webTexts[webLocale("", c.Get(fiber.HeaderAcceptLanguage))]
	f, next, ok := s.openWebFlow(c.Cookies(s.cookieName(webFlowCookie)))
	s.setSessionCookie(c, webFlowCookie, "") // the flow is spent
	if c.Query("error") != "" {
		return s.webErrorRetry(c, fiber.StatusUnauthorized, L["signInFailed"], "sso_failed")
	}
	if !ok {
		return s.webErrorRetry(c, fiber.StatusUnauthorized, L["signInStale"], "sso_failed")
	}
	signed, err := s.deps.PageSignIn.Finish(ctx, f, c.Query("state"), c.Query("code"))
	if err != nil {
		return s.webFail(c, err)
	}
	p, err := s.deps.Validator.Validate(ctx, signed.AccessToken)
	if err != nil {
		return s.webFail(c, err)
	}
	prof, err := s.deps.Sessions.Directory.Me(ctx, p)
	if err != nil {
		return s.webFail(c, err)
	}
	zone := "UTC"
	if name, err := s.deps.People.MailboxTimeZone(ctx, p); err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "mailbox time zone unavailable; using UTC",
			slog.String("request_id", requestID(c)), slog.String("code", scheduler.ErrorCode(err)))
	} else if iana, err := timezone.IANA(name); err == nil {
		zone = iana
	}
	if old, _ := s.loadWebUser(c); old != nil {
		if err := s.deps.Sessions.Store.DeleteSession(ctx, s.webKey(old.id)); err != nil {
			return s.webFail(c, err)
		}
	}
	id, err := s.saveWebSession(ctx, p, webProfile{Profile: prof, TimeZone: zone}, signed.AccessToken, signed.Expiry)
	if err != nil {
		return s.webFail(c, err)
	}
	s.setSessionCookie(c, webSessionCookie, id)
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (s *Server) webSignOut(c *fiber.Ctx) error {
	if err := s.deps.Sessions.Store.DeleteSession(c.UserContext(), s.webKey(webUserOf(c).id)); err != nil {
		return s.webFail(c, err)
	}
	s.setSessionCookie(c, webSessionCookie, "")
	return c.Redirect("/signout", fiber.StatusSeeOther)
}

func (s *Server) signedOut(c *fiber.Ctx) error {
	L := webTexts[webLocale("", c.Get(fiber.HeaderAcceptLanguage))]
	return s.renderWeb(c, fiber.StatusOK, "websignedout", webData{Title: L["signOut"], Notice: L["signedOut"], Retry: "/signin"})
}

// findPeople suggests attendees for the page's script (JSON).
func (s *Server) findPeople(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if n := utf8.RuneCountInString(q); n < 2 || n > 100 {
		return c.JSON(fiber.Map{"value": []scheduler.Attendee{}})
	}
	people, err := s.deps.People.FindPeople(c.UserContext(), webUserOf(c).p, q, 8)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"value": people})
}

// --- pages ---

func (s *Server) myMeetings(c *fiber.Ctx) error {
	u := webUserOf(c)
	L, loc := webTexts[u.lang], u.location()
	today := time.Now().In(loc)
	from, to := c.Query("from", today.Format(dateLayout)), c.Query("to", today.AddDate(0, 0, webDefaultDays).Format(dateLayout))
	mailbox := strings.TrimSpace(c.Query("mailbox"))
	v := &listView{From: from, To: to, Mailbox: mailbox, Zone: loc.String(), Page: c.QueryInt("page", 1)}
	d := webData{Title: L["myMeetings"], Nav: "list", List: v, Notice: L["done."+c.Query("done")]}
	start, err1 := time.ParseInLocation(dateLayout, from, loc)
	end, err2 := time.ParseInLocation(dateLayout, to, loc)
	if err1 != nil || err2 != nil {
		d.Error = L["badDate"]
		return s.renderWeb(c, fiber.StatusBadRequest, "weblist", d)
	}
	list, err := s.deps.Meetings.List(c.UserContext(), u.p, u.prof, mailbox, start, end.AddDate(0, 0, 1), u.lang)
	if err != nil {
		if !userProblem(err) {
			return s.webFail(c, err)
		}
		d.Error, d.Code = scheduler.ErrorMessage(err), scheduler.ErrorCode(err)
		return s.renderWeb(c, StatusOf(d.Code), "weblist", d)
	}
	v.Pages = max(1, (len(list)+webPageSize-1)/webPageSize)
	if v.Page < 1 || v.Page > v.Pages {
		d.Error = L["badPage"]
		return s.renderWeb(c, fiber.StatusNotFound, "weblist", d)
	}
	for _, l := range list[(v.Page-1)*webPageSize : min(len(list), v.Page*webPageSize)] {
		v.Rows = append(v.Rows, listRow{
			ID: l.ID, Subject: cmp.Or(l.Subject, L["noSubject"]), When: when(l.Start, l.End, loc, u.lang),
			StartISO: l.Start.Format(time.RFC3339), ConferenceID: l.ConferenceID, JoinURL: l.JoinURL,
		})
	}
	page := func(n int) string {
		q := url.Values{"from": {from}, "to": {to}, "page": {strconv.Itoa(n)}}
		if mailbox != "" {
			q.Set("mailbox", mailbox)
		}
		return "/meetings?" + q.Encode()
	}
	if v.Page > 1 {
		v.PrevURL = page(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.NextURL = page(v.Page + 1)
	}
	return s.renderWeb(c, fiber.StatusOK, "weblist", d)
}

func (s *Server) newMeetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	loc := u.location()
	start := time.Now().In(loc).Truncate(time.Hour).Add(time.Hour)
	f := s.form(u, scheduler.MeetingOptions{}.WithDefaults())
	f.Action, f.Idem = "/meetings", randomToken()
	f.Start, f.End = start.Format(localLayout), start.Add(time.Hour).Format(localLayout)
	return s.renderWeb(c, fiber.StatusOK, "webform", webData{Title: webTexts[u.lang]["newMeeting"], Nav: "new", Form: f})
}

func (s *Server) createMeetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	f, start, end, opts, problem := s.readForm(c, u)
	f.Action, f.Idem = "/meetings", c.FormValue("idem")
	f.Subject, f.Mailbox, f.Attendees = c.FormValue("subject"), strings.TrimSpace(c.FormValue("mailbox")), addresses(c.FormValue("attendees"))
	d := webData{Title: webTexts[u.lang]["newMeeting"], Nav: "new", Form: f}
	if problem != "" {
		d.Error = problem
		return s.renderWeb(c, fiber.StatusBadRequest, "webform", d)
	}
	req := meeting.Request{
		Subject: f.Subject, Start: start, End: end, TimeZone: f.Zone, Attendees: f.Attendees, Options: opts,
		CreateEvent: true, Locale: u.lang, Mailbox: f.Mailbox,
	}
	// The form's key makes a double submit one meeting, not two.
	idem := ""
	if len(f.Idem) <= 64 && f.Idem != "" {
		idem = "web:" + f.Idem
	}
	m, err := s.deps.Meetings.Create(c.UserContext(), u.p, u.prof, req, idem)
	if err != nil {
		return s.formFailed(c, d, err)
	}
	return c.Redirect("/meetings/"+url.PathEscape(m.ID)+"?done=created", fiber.StatusSeeOther)
}

func (s *Server) meetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	v, err := s.details(c, u)
	if err != nil {
		return s.webFail(c, err)
	}
	return s.renderWeb(c, fiber.StatusOK, "webdetail", webData{Title: v.Subject, Meeting: v, Notice: webTexts[u.lang]["done."+c.Query("done")]})
}

func (s *Server) editMeetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	m, ev, err := s.deps.Meetings.Details(c.UserContext(), u.p, u.prof, c.Params("id"), u.lang)
	if err != nil {
		return s.webFail(c, err)
	}
	f := s.editForm(u, m, ev)
	loc := u.location()
	f.Start, f.End = m.Start.In(loc).Format(localLayout), m.End.In(loc).Format(localLayout)
	return s.renderWeb(c, fiber.StatusOK, "webform", webData{Title: webTexts[u.lang]["editMeeting"], Form: f})
}

func (s *Server) updateMeetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	m, ev, err := s.deps.Meetings.Details(c.UserContext(), u.p, u.prof, c.Params("id"), u.lang)
	if err != nil {
		return s.webFail(c, err)
	}
	f, start, end, opts, problem := s.readForm(c, u)
	shown := s.editForm(u, m, ev)
	f.Action, f.ID, f.Edit, f.Subject, f.Attendees = shown.Action, shown.ID, true, shown.Subject, shown.Attendees
	d := webData{Title: webTexts[u.lang]["editMeeting"], Form: f}
	if problem != "" {
		d.Error = problem
		return s.renderWeb(c, fiber.StatusBadRequest, "webform", d)
	}
	if _, err := s.deps.Meetings.Update(c.UserContext(), u.p, u.prof, m.ID, meeting.Patch{Start: &start, End: &end, Options: &opts, Locale: u.lang}); err != nil {
		return s.formFailed(c, d, err)
	}
	return c.Redirect("/meetings/"+url.PathEscape(m.ID)+"?done=updated", fiber.StatusSeeOther)
}

func (s *Server) deleteMeetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	v, err := s.details(c, u)
	if err != nil {
		return s.webFail(c, err)
	}
	return s.renderWeb(c, fiber.StatusOK, "webdelete", webData{Title: webTexts[u.lang]["cancelMeeting"] + ": " + v.Subject, Meeting: v})
}

// cancelMeetingPage cancels the calendar item with a message to the
// attendees and frees the conference.
func (s *Server) cancelMeetingPage(c *fiber.Ctx) error {
	u := webUserOf(c)
	comment := c.FormValue("comment")
	if utf8.RuneCountInString(comment) > 2000 {
		return s.webFail(c, scheduler.Errorf(scheduler.ECodeInvalid, "The cancellation message is longer than 2000 characters."))
	}
	if err := s.deps.Meetings.Delete(c.UserContext(), u.p, c.Params("id"), true, comment); err != nil {
		return s.webFail(c, err)
	}
	return c.Redirect("/meetings?done=deleted", fiber.StatusSeeOther)
}

// meetingICS exports a meeting as iCalendar (RFC 5545), in the time zone
// of ?tz= (Windows or IANA), else the page user's, else UTC.
func (s *Server) meetingICS(c *fiber.Ctx) error {
	ctx, p := c.UserContext(), principal(c)
	var prof scheduler.Profile
	zone, locale := "UTC", c.Query("locale")
	if u := webUserOf(c); u != nil {
		prof, zone, locale = u.prof, u.zone, cmp.Or(locale, u.lang)
	} else {
		var err error
		if prof, err = s.deps.Sessions.Profile(ctx, p); err != nil {
			return err
		}
	}
	if tz := c.Query("tz"); tz != "" {
		var err error
		if zone, err = timezone.IANA(tz); err != nil {
			return scheduler.Errorf(scheduler.ECodeInvalid, "Unknown time zone in tz: give a Windows or IANA name.")
		}
	}
	loc, err := timezone.Load(zone)
	if err != nil {
		loc = time.UTC
	}
	m, ev, err := s.deps.Meetings.Details(ctx, p, prof, c.Params("id"), locale)
	if err != nil {
		return err
	}
	organizer := ev.Organizer
	if organizer.Address == "" && m.Mailbox == "" {
		organizer = scheduler.Attendee{Name: prof.DisplayName, Address: prof.PrimarySMTP}
	}
	host := "webscheduler"
	if u, err := url.Parse(s.deps.PublicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	body := icalendar.Encode(icalendar.Event{
		UID: m.ID + "@" + host, Subject: ev.Subject, Start: m.Start, End: m.End, Zone: loc,
		Organizer: organizer, Attendees: ev.Attendees, JoinURL: m.JoinURL, Description: m.JoinInfo.Text, Stamp: time.Now(),
	})
	c.Set(fiber.HeaderContentType, "text/calendar; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="meeting-`+m.ConferenceID+`.ics"`)
	c.Set(fiber.HeaderCacheControl, "no-store") // it holds the passcode
	return c.Send(body)
}

// --- helpers ---

func (u *webUser) location() *time.Location {
	if loc, err := timezone.Load(u.zone); err == nil {
		return loc
	}
	return time.UTC
}

// details reads a meeting for the details and cancel pages.
func (s *Server) details(c *fiber.Ctx, u *webUser) (*detailView, error) {
	L, loc := webTexts[u.lang], u.location()
	m, ev, err := s.deps.Meetings.Details(c.UserContext(), u.p, u.prof, c.Params("id"), u.lang)
	if err != nil {
		return nil, err
	}
	v := &detailView{
		ID: m.ID, Subject: cmp.Or(ev.Subject, L["noSubject"]), When: when(m.Start, m.End, loc, u.lang), StartISO: m.Start.Format(time.RFC3339),
		Zone: loc.String(), Organizer: person(ev.Organizer), JoinURL: m.JoinURL, ConferenceID: m.ConferenceID, Passcode: m.Passcode,
		DialIn: m.DialIn, DialInURL: m.DialInURL, Lobby: L["lobby."+m.Options.Lobby], PhoneBypass: m.Options.PhoneBypass,
		Presenters: L["presenters."+m.Options.Presenters], Gone: m.EventID != "" && ev.ID == "",
	}
	if m.Options.Presenters == scheduler.PresentersNamed {
		v.Presenters += ": " + strings.Join(m.Options.PresenterList, ", ")
	}
	for _, a := range ev.Attendees {
		v.Attendees = append(v.Attendees, person(a))
	}
	return v, nil
}

func person(a scheduler.Attendee) string {
	if a.Name == "" || strings.EqualFold(a.Name, a.Address) {
		return a.Address
	}
	return a.Name + " <" + a.Address + ">"
}

// form is a meeting form with the user's zone and the given options chosen.
func (s *Server) form(u *webUser, o scheduler.MeetingOptions) *formView {
	L := webTexts[u.lang]
	f := &formView{Zone: u.location().String(), Zones: timezone.Zones(), PhoneBypass: o.PhoneBypass, PresenterList: o.PresenterList, Region: o.DialInRegion}
	if !slices.Contains(f.Zones, f.Zone) {
		f.Zones = append([]string{f.Zone}, f.Zones...)
	}
	for _, v := range []string{scheduler.LobbyOrganizer, scheduler.LobbyInvited, scheduler.LobbyCompany, scheduler.LobbyEveryone} {
		f.Lobby = append(f.Lobby, choice{Value: v, Label: L["lobby."+v], Selected: v == o.Lobby})
	}
	for _, v := range []string{scheduler.PresentersOrganizer, scheduler.PresentersCompany, scheduler.PresentersEveryone, scheduler.PresentersNamed} {
		f.Presenters = append(f.Presenters, choice{Value: v, Label: L["presenters."+v], Selected: v == o.Presenters})
	}
	for _, d := range s.dialInNumbers() {
		if !slices.Contains(f.Regions, d.Region) {
			f.Regions = append(f.Regions, d.Region)
		}
	}
	return f
}

func (s *Server) editForm(u *webUser, m meeting.Meeting, ev scheduler.Event) *formView {
	f := s.form(u, m.Options)
	f.Action, f.ID, f.Edit, f.Subject = "/meetings/"+m.ID, m.ID, true, cmp.Or(ev.Subject, webTexts[u.lang]["noSubject"])
	for _, a := range ev.Attendees {
		f.Attendees = append(f.Attendees, person(a))
	}
	return f
}

// readForm reads the times and options every meeting form has. problem
// is a sentence for the user when the times cannot be read.
func (s *Server) readForm(c *fiber.Ctx, u *webUser) (f *formView, start, end time.Time, opts scheduler.MeetingOptions, problem string) {
	L := webTexts[u.lang]
	opts = scheduler.MeetingOptions{
		Lobby: c.FormValue("lobby"), PhoneBypass: c.FormValue("phoneBypass") == "1",
		Presenters: c.FormValue("presenters"), DialInRegion: c.FormValue("region"),
	}
	if opts.Presenters == scheduler.PresentersNamed {
		opts.PresenterList = addresses(c.FormValue("presenterList"))
	}
	f = s.form(u, opts)
	f.PresenterList = addresses(c.FormValue("presenterList"))
	f.Start, f.End, f.Zone = c.FormValue("start"), c.FormValue("end"), c.FormValue("tz")
	loc, err := timezone.Load(f.Zone)
	if err != nil {
		return f, start, end, opts, L["badZone"]
	}
	var errs [2]error
	for i, v := range []string{f.Start, f.End} {
		t, err := timezone.ParseLocal(localLayout, v, loc)
		if err != nil && len(v) == len(localLayout+":05") { // browsers may add seconds
			t, err = timezone.ParseLocal(localLayout+":05", v, loc)
		}
		if errors.Is(err, timezone.ErrSkipped) {
			return f, start, end, opts, fmt.Sprintf(L["skipped"], strings.Replace(v, "T", " ", 1), loc)
		}
		errs[i] = err
		if i == 0 {
			start = t
		} else {
			end = t
		}
	}
	if errs[0] != nil || errs[1] != nil {
		return f, start, end, opts, L["badTime"]
	}
	return f, start, end, opts, ""
}

// addresses splits a field of addresses (lines, commas or semicolons),
// dropping blanks and repeats.
func addresses(text string) []string {
	var out []string
	for _, a := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' }) {
		if a = strings.TrimSpace(a); a != "" && !slices.ContainsFunc(out, func(b string) bool { return strings.EqualFold(a, b) }) {
			out = append(out, a)
		}
	}
	return out
}

// when shows a meeting's time in the viewer's zone and locale.
func when(start, end time.Time, loc *time.Location, lang string) string {
	layout := webTimeLayouts[lang]
	s, e := start.In(loc), end.In(loc)
	if s.Format(dateLayout) == e.Format(dateLayout) {
		return s.Format(layout) + "–" + e.Format("15:04")
	}
	return s.Format(layout) + " – " + e.Format(layout)
}

// userProblem reports errors the user can fix on the same page.
func userProblem(err error) bool {
	switch scheduler.ErrorCode(err) {
	case scheduler.ECodeInvalid, scheduler.ECodeForbidden, scheduler.ECodeNotFound, scheduler.ECodeConflict:
		return true
	}
	return false
}

// formFailed shows the form again with the service's sentence when the
// user can fix it, or an error page when not.
func (s *Server) formFailed(c *fiber.Ctx, d webData, err error) error {
	if !userProblem(err) {
		return s.webFail(c, err)
	}
	d.Error, d.Code = scheduler.ErrorMessage(err), scheduler.ErrorCode(err)
	return s.renderWeb(c, StatusOf(d.Code), "webform", d)
}

// webFail shows an error page: the code's status and sentence, never
// internal detail; a failed sign-in or token offers signing in again.
func (s *Server) webFail(c *fiber.Ctx, err error) error {
	code := scheduler.ErrorCode(err)
	status := StatusOf(code)
	if status >= 500 {
		s.log.LogAttrs(c.UserContext(), slog.LevelError, "request failed",
			slog.String("request_id", requestID(c)), slog.String("code", code), slog.String("cause", err.Error()))
	}
	if status == fiber.StatusUnauthorized {
		return s.webErrorRetry(c, status, scheduler.ErrorMessage(err), code)
	}
	return s.webError(c, status, scheduler.ErrorMessage(err), code)
}

func (s *Server) webError(c *fiber.Ctx, status int, msg, code string) error {
	L := webTexts[webLocale("", c.Get(fiber.HeaderAcceptLanguage))]
	if u := webUserOf(c); u != nil {
		L = webTexts[u.lang]
	}
	return s.renderWeb(c, status, "weberror", webData{Title: L["error"], Error: msg, Code: code})
}

func (s *Server) webErrorRetry(c *fiber.Ctx, status int, msg, code string) error {
	c.Locals(webUserLocal, nil) // a failed sign-in has no session to show
	L := webTexts[webLocale("", c.Get(fiber.HeaderAcceptLanguage))]
	return s.renderWeb(c, status, "weberror", webData{Title: L["error"], Error: msg, Code: code, Retry: "/signin"})
}
