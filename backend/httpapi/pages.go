package httpapi

import (
	"html/template"
	"regexp"

	"github.com/gofiber/fiber/v2"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// pageLayout wraps every server-rendered page: one look, the sandbox
// banner when it applies, nothing loaded from other origins.
const pageLayout = `{{define "top"}}<!doctype html>
<html lang="{{with .Lang}}{{.}}{{else}}en{{end}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Web Scheduler</title>
<link rel="stylesheet" href="/static/site.css">
</head><body>
{{if .Sandbox}}<div class="banner" role="status">Sandbox mode: emulated Microsoft Entra ID and Graph, in-memory state. Nothing here reaches a real tenant.</div>{{end}}
<main><h1>{{.Title}}</h1>{{end}}
{{define "bottom"}}</main></body></html>{{end}}`

var pages = template.Must(template.New("pages").Parse(pageLayout + `
{{define "home"}}{{template "top" .}}
<p>Online meetings for Outlook and Exchange Online: join link, dial-in numbers, conference ID and passcode in every invitation.</p>
<p><a href="/meetings">Schedule and manage your meetings</a> (sign in with your work account){{if .Sandbox}}: in sandbox mode pick any seeded user, such as Adele Vance, and add an online meeting to a calendar item in a minute{{end}}.</p>
<ul><li><a href="/dialin">Dial-in numbers</a></li><li><a href="/help">Help</a></li><li><a href="/healthz">Health</a></li><li><a href="/readyz">Readiness</a></li>
{{if .Sandbox}}<li>Emulated Entra ID: <code>{{.PublicURL}}/sandbox/entra/</code></li><li>Emulated Graph: <code>{{.PublicURL}}/sandbox/graph/v1.0</code></li>{{end}}</ul>
{{template "bottom"}}{{end}}
{{define "dialin"}}{{template "top" .}}
{{if .DialIn}}<table><thead><tr><th scope="col">Region</th><th scope="col">Number</th><th scope="col">Language</th></tr></thead><tbody>
{{range .DialIn}}<tr><td>{{.Region}}{{if .TollFree}} (toll-free){{end}}</td><td><a href="tel:{{.Number}}">{{.Number}}</a></td><td>{{.Language}}</td></tr>
{{end}}</tbody></table>
<p>Dial a number, then enter the conference ID from the invitation followed by #.</p>{{else}}<p>No dial-in numbers are configured.</p>{{end}}
{{template "bottom"}}{{end}}
{{define "join"}}{{template "top" .}}
<p>This is where conference <strong>{{.ConferenceID}}</strong> would open. In sandbox mode there is no conferencing service; a real deployment's join URL template points at yours.</p>
{{template "bottom"}}{{end}}
{{define "help"}}{{template "top" .}}
<p>To add an online meeting, open an appointment in Outlook and choose <strong>Add online meeting</strong>. Attendees join with the link, or by phone with a dial-in number and the conference ID.</p>
<p>Ask your IT department about your organization's meeting policies.</p>
{{template "bottom"}}{{end}}`))

type pageData struct {
	Title        string
	Lang         string // the page's language; "" is English
	Sandbox      bool
	PublicURL    string
	DialIn       []scheduler.DialIn
	ConferenceID string
}

func (s *Server) page(c *fiber.Ctx, name string, d pageData) error {
	d.Sandbox, d.PublicURL = s.sandbox, s.deps.PublicURL
	c.Type("html", "utf-8")
	return pages.ExecuteTemplate(c, name, d)
}

func (s *Server) home(c *fiber.Ctx) error {
	return s.page(c, "home", pageData{Title: "Web Scheduler"})
}

// dialIn is the "find a local number" page join information links to.
func (s *Server) dialIn(c *fiber.Ctx) error {
	return s.page(c, "dialin", pageData{Title: "Dial-in numbers", DialIn: s.dialInNumbers()})
}

func (s *Server) help(c *fiber.Ctx) error {
	return s.page(c, "help", pageData{Title: "Help"})
}

var conferenceIDPattern = regexp.MustCompile(`^[0-9]{1,16}$`)

// sandboxJoin stands in for a conferencing service in sandbox mode.
func (s *Server) sandboxJoin(c *fiber.Ctx) error {
	id := c.Params("id")
	if !conferenceIDPattern.MatchString(id) {
		return scheduler.Errorf(scheduler.ECodeNotFound, "No such conference.")
	}
	return s.page(c, "join", pageData{Title: "Join meeting", ConferenceID: id})
}
