package httpapi

import (
	"html/template"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// webPages are the Web Scheduler page's templates, on the site's layout.
// Controls that need the script (copy, people search) start hidden, so the
// page works without it.
var webPages = template.Must(template.New("web").Parse(pageLayout + `
{{define "webnav"}}<nav aria-label="{{.L.nav}}" class="webnav"><ul>
<li><a href="/meetings"{{if eq .Nav "list"}} aria-current="page"{{end}}>{{.L.myMeetings}}</a></li>
<li><a href="/meetings/new"{{if eq .Nav "new"}} aria-current="page"{{end}}>{{.L.newMeeting}}</a></li>
</ul><form method="post" action="/signout" class="signout"><input type="hidden" name="csrf" value="{{.CSRF}}">
<span>{{printf .L.signedInAs .UserName}}</span> <button type="submit">{{.L.signOut}}</button></form></nav>
{{with .Notice}}<p class="notice" role="status">{{.}}</p>{{end}}
{{with .Error}}<div class="error" role="alert"><p>{{.}}</p>{{with $.Code}}<p class="code">{{printf $.L.errorCode .}}</p>{{end}}</div>{{end}}
<div id="live" class="visually-hidden" aria-live="polite"></div>{{end}}

{{define "webscript"}}<script type="module" src="/static/web.js"></script>{{end}}

{{define "weblist"}}{{template "top" .}}{{template "webnav" .}}{{with .List}}
<form method="get" action="/meetings" class="filters"><fieldset><legend>{{$.L.period}}</legend>
<div class="row"><p><label for="from">{{$.L.from}}</label><input type="date" id="from" name="from" value="{{.From}}" required></p>
<p><label for="to">{{$.L.to}}</label><input type="date" id="to" name="to" value="{{.To}}" required></p></div>
<p><label for="mailbox">{{$.L.calendarOf}}</label><input type="email" id="mailbox" name="mailbox" value="{{.Mailbox}}" list="people" autocomplete="off" aria-describedby="mailbox-hint" data-suggest>
<span id="mailbox-hint" class="hint">{{$.L.calendarHint}}</span></p><datalist id="people"></datalist>
<p><button type="submit">{{$.L.show}}</button></p></fieldset></form>
<p class="hint">{{printf $.L.timesIn .Zone}}</p>
{{if .Rows}}<div class="scroll"><table><caption class="visually-hidden">{{$.L.myMeetings}}</caption>
<thead><tr><th scope="col">{{$.L.when}}</th><th scope="col">{{$.L.subject}}</th><th scope="col">{{$.L.conferenceId}}</th><th scope="col">{{$.L.joinLink}}</th></tr></thead><tbody>
{{range .Rows}}<tr><td><time datetime="{{.StartISO}}">{{.When}}</time></td><td>{{if .ID}}<a href="/meetings/{{.ID}}">{{.Subject}}</a>{{else}}{{.Subject}}{{end}}</td><td>{{.ConferenceID}}</td><td>{{with .JoinURL}}<a href="{{.}}">{{$.L.join}}</a>{{end}}</td></tr>
{{end}}</tbody></table></div>
{{if gt .Pages 1}}<nav class="pager" aria-label="{{$.L.myMeetings}}">{{with .PrevURL}}<a href="{{.}}" rel="prev">{{$.L.previous}}</a>{{end}}
<span>{{printf $.L.page .Page .Pages}}</span>{{with .NextURL}}<a href="{{.}}" rel="next">{{$.L.next}}</a>{{end}}</nav>{{end}}
{{else}}<p>{{$.L.noMeetings}}</p>{{end}}{{end}}
{{template "webscript"}}{{template "bottom"}}{{end}}

{{define "webform"}}{{template "top" .}}{{template "webnav" .}}{{with .Form}}
<form method="post" action="{{.Action}}" class="meeting-form"><input type="hidden" name="csrf" value="{{$.CSRF}}">
{{with .Idem}}<input type="hidden" name="idem" value="{{.}}">{{end}}
{{if .Edit}}<dl class="facts"><dt>{{$.L.subject}}</dt><dd>{{.Subject}}</dd>
{{with .Attendees}}<dt>{{$.L.people}}</dt><dd>{{range $i, $a := .}}{{if $i}}, {{end}}{{$a}}{{end}}</dd>{{end}}</dl>
<p class="hint">{{$.L.readOnlyInCalendar}}</p>
{{else}}<p><label for="subject">{{$.L.subject}}</label><input id="subject" name="subject" value="{{.Subject}}" maxlength="255" autocomplete="off"></p>{{end}}
<div class="row"><p><label for="start">{{$.L.start}}</label><input type="datetime-local" id="start" name="start" value="{{.Start}}" required></p>
<p><label for="end">{{$.L.end}}</label><input type="datetime-local" id="end" name="end" value="{{.End}}" required></p></div>
<p><label for="tz">{{$.L.timeZone}}</label><select id="tz" name="tz">{{range .Zones}}<option{{if eq . $.Form.Zone}} selected{{end}}>{{.}}</option>{{end}}</select></p>
{{if not .Edit}}<p class="js-only" hidden><label for="find-people">{{$.L.findPeople}}</label>
<input type="search" id="find-people" list="people" autocomplete="off" aria-describedby="find-hint" data-suggest data-add-to="attendees" data-added="{{$.L.added}}">
<span id="find-hint" class="hint">{{$.L.findPeopleHint}}</span></p><datalist id="people"></datalist>
<p><label for="attendees">{{$.L.attendees}}</label><textarea id="attendees" name="attendees" rows="4" autocomplete="off">{{range .Attendees}}{{.}}
{{end}}</textarea></p>
<p><label for="mailbox">{{$.L.onBehalfOf}}</label><input type="email" id="mailbox" name="mailbox" value="{{.Mailbox}}" list="people" autocomplete="off" aria-describedby="mailbox-hint" data-suggest>
<span id="mailbox-hint" class="hint">{{$.L.onBehalfOfHint}}</span></p>{{end}}
<fieldset><legend>{{$.L.options}}</legend>
<p><label for="lobby">{{$.L.lobby}}</label><select id="lobby" name="lobby">{{range .Lobby}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end}}</select></p>
<p class="check"><input type="checkbox" id="phoneBypass" name="phoneBypass" value="1"{{if .PhoneBypass}} checked{{end}}> <label for="phoneBypass">{{$.L.phoneBypass}}</label></p>
<p><label for="presenters">{{$.L.presenters}}</label><select id="presenters" name="presenters">{{range .Presenters}}<option value="{{.Value}}"{{if .Selected}} selected{{end}}>{{.Label}}</option>{{end}}</select></p>
<p><label for="presenterList">{{$.L.presenterList}}</label><textarea id="presenterList" name="presenterList" rows="2" autocomplete="off" aria-describedby="presenter-hint">{{range .PresenterList}}{{.}}
{{end}}</textarea><span id="presenter-hint" class="hint">{{$.L.presenterListHint}}</span></p>
{{if .Regions}}<p><label for="region">{{$.L.dialInRegion}}</label><select id="region" name="region"><option value="">{{$.L.allRegions}}</option>
{{range .Regions}}<option{{if eq . $.Form.Region}} selected{{end}}>{{.}}</option>{{end}}</select></p>{{end}}
</fieldset>
<p class="actions"><button type="submit" class="primary">{{if .Edit}}{{$.L.save}}{{else}}{{$.L.create}}{{end}}</button>
{{if .Edit}}<a href="/meetings/{{.ID}}">{{$.L.back}}</a>{{end}}</p></form>{{end}}
{{template "webscript"}}{{template "bottom"}}{{end}}

{{define "webdetail"}}{{template "top" .}}{{template "webnav" .}}{{with .Meeting}}
{{if .Gone}}<p class="notice">{{$.L.itemGone}}</p>{{end}}
<dl class="facts"><dt>{{$.L.when}}</dt><dd><time datetime="{{.StartISO}}">{{.When}}</time> <span class="hint">({{.Zone}})</span></dd>
{{with .Organizer}}<dt>{{$.L.organizer}}</dt><dd>{{.}}</dd>{{end}}
{{with .Attendees}}<dt>{{$.L.people}}</dt><dd><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></dd>{{end}}
<dt>{{$.L.joinLink}}</dt><dd><a id="join-url" href="{{.JoinURL}}">{{.JoinURL}}</a>
<button type="button" hidden data-done="{{$.L.copied}}" data-failed="{{$.L.copyFailed}}" data-copy="join-url" aria-label="{{printf $.L.copyWhat $.L.joinLink}}">{{$.L.copy}}</button></dd>
<dt>{{$.L.conferenceId}}</dt><dd><span id="conference-id">{{.ConferenceID}}</span>
<button type="button" hidden data-done="{{$.L.copied}}" data-failed="{{$.L.copyFailed}}" data-copy="conference-id" aria-label="{{printf $.L.copyWhat $.L.conferenceId}}">{{$.L.copy}}</button></dd>
{{with .Passcode}}<dt>{{$.L.passcode}}</dt><dd><span id="passcode">{{.}}</span>
<button type="button" hidden data-done="{{$.L.copied}}" data-failed="{{$.L.copyFailed}}" data-copy="passcode" aria-label="{{printf $.L.copyWhat $.L.passcode}}">{{$.L.copy}}</button></dd>{{end}}
{{if .DialIn}}<dt>{{$.L.dialIn}}</dt><dd><ul>{{range .DialIn}}<li>{{.Region}}{{if .TollFree}} ({{$.L.tollFree}}){{end}}: <a href="tel:{{.Number}}">{{.Number}}</a></li>{{end}}</ul>
{{with .DialInURL}}<a href="{{.}}">{{$.L.findLocal}}</a>{{end}}</dd>{{end}}
<dt>{{$.L.lobby}}</dt><dd>{{.Lobby}}</dd><dt>{{$.L.phoneBypass}}</dt><dd>{{if .PhoneBypass}}{{$.L.yes}}{{else}}{{$.L.no}}{{end}}</dd>
<dt>{{$.L.presenters}}</dt><dd>{{.Presenters}}</dd></dl>
<ul class="actions"><li><a class="button" href="/meetings/{{.ID}}/edit">{{$.L.edit}}</a></li>
<li><a class="button" href="/api/v1/meetings/{{.ID}}/ics" download>{{$.L.export}}</a></li>
<li><a class="button danger" href="/meetings/{{.ID}}/delete">{{$.L.cancelMeeting}}</a></li></ul>{{end}}
{{template "webscript"}}{{template "bottom"}}{{end}}

{{define "webdelete"}}{{template "top" .}}{{template "webnav" .}}{{with .Meeting}}
<p>{{$.L.cancelIntro}}</p>
<dl class="facts"><dt>{{$.L.when}}</dt><dd><time datetime="{{.StartISO}}">{{.When}}</time></dd>{{with .Attendees}}<dt>{{$.L.people}}</dt><dd><ul>{{range .}}<li>{{.}}</li>{{end}}</ul></dd>{{end}}</dl>
<form method="post" action="/meetings/{{.ID}}/delete"><input type="hidden" name="csrf" value="{{$.CSRF}}">
<p><label for="comment">{{$.L.cancelMessage}}</label><textarea id="comment" name="comment" rows="3" maxlength="2000"></textarea></p>
<p class="actions"><button type="submit" class="danger">{{$.L.cancelMeeting}}</button> <a href="/meetings/{{.ID}}">{{$.L.back}}</a></p></form>{{end}}
{{template "bottom"}}{{end}}

{{define "websignedout"}}{{template "top" .}}<p class="notice" role="status">{{.Notice}}</p>
<p class="actions"><a class="button primary" href="{{.Retry}}">{{.L.signIn}}</a></p>{{template "bottom"}}{{end}}

{{define "weberror"}}{{template "top" .}}{{if .CSRF}}{{template "webnav" .}}{{else}}
<div class="error" role="alert"><p>{{.Error}}</p>{{with .Code}}<p class="code">{{printf $.L.errorCode .}}</p>{{end}}</div>{{end}}
<p class="actions">{{with .Retry}}<a class="button primary" href="{{.}}">{{$.L.signIn}}</a>{{end}} <a href="/meetings">{{$.L.myMeetings}}</a></p>
{{template "bottom"}}{{end}}`))

// webData is what every web page renders from; the layout reads Title,
// Lang, Sandbox and PublicURL.
type webData struct {
	Title, Lang string
	Sandbox     bool
	PublicURL   string
	L           map[string]string
	Nav         string // the current navigation item: "list" or "new"
	UserName    string
	CSRF        string
	Notice      string
	Error, Code string
	Retry       string
	List        *listView
	Form        *formView
	Meeting     *detailView
}

type listView struct {
	From, To, Mailbox, Zone string
	Rows                    []listRow
	Page, Pages             int
	PrevURL, NextURL        string
}

type listRow struct {
	ID, Subject, When, StartISO, ConferenceID, JoinURL string
}

type choice struct {
	Value, Label string
	Selected     bool
}

type formView struct {
	Action, Idem, ID  string
	Edit              bool
	Subject           string
	Attendees         []string
	Mailbox           string
	Start, End, Zone  string
	Zones             []string
	Lobby, Presenters []choice
	PhoneBypass       bool
	PresenterList     []string
	Region            string
	Regions           []string
}

type detailView struct {
	ID, Subject, When, StartISO, Zone string
	Organizer                         string
	Attendees                         []string
	JoinURL, ConferenceID, Passcode   string
	DialIn                            []scheduler.DialIn
	DialInURL                         string
	Lobby, Presenters                 string
	PhoneBypass, Gone                 bool
}

// renderWeb fills in what every page needs and renders it.
func (s *Server) renderWeb(c *fiber.Ctx, status int, name string, d webData) error {
	u := webUserOf(c)
	if u != nil {
		d.Lang, d.UserName, d.CSRF = u.lang, u.prof.DisplayName, u.csrf
	} else {
		d.Lang = webLocale("", c.Get(fiber.HeaderAcceptLanguage))
	}
	d.L, d.Sandbox, d.PublicURL = webTexts[d.Lang], s.sandbox, s.deps.PublicURL
	c.Status(status).Type("html", "utf-8")
	return webPages.ExecuteTemplate(c, name, d)
}
