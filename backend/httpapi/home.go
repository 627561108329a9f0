package httpapi

import (
	"html/template"

	"github.com/gofiber/fiber/v2"
)

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Web Scheduler</title>
<style>body{font-family:"Segoe UI",system-ui,sans-serif;margin:0;color:#242424}main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.banner{background:#fff4ce;border-bottom:1px solid #f9e2ae;padding:.75rem 1rem;font-weight:600}code{background:#f5f5f5;padding:0 .25rem}</style>
</head><body>
{{if .Sandbox}}<div class="banner" role="status">Sandbox mode: emulated Microsoft Entra ID and Graph, in-memory state. Nothing here reaches a real tenant.</div>{{end}}
<main><h1>Web Scheduler</h1>
<p>Online meetings for Outlook and Exchange Online: join link, dial-in numbers, conference ID and passcode in every invitation.</p>
<ul><li><a href="/healthz">Health</a></li><li><a href="/readyz">Readiness</a></li>
{{if .Sandbox}}<li>Emulated Entra ID: <code>{{.PublicURL}}/sandbox/entra/</code></li><li>Emulated Graph: <code>{{.PublicURL}}/sandbox/graph/v1.0</code></li>{{end}}</ul>
</main></body></html>`))

func (s *Server) home(c *fiber.Ctx) error {
	c.Type("html", "utf-8")
	return homePage.Execute(c, struct {
		Sandbox   bool
		PublicURL string
	}{s.sandbox, s.deps.PublicURL})
}
