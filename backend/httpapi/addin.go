package httpapi

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// OutlookOrigins are the hosts that frame the add-in's pages: Outlook on
// the web and the new Outlook, for work and personal accounts.
var OutlookOrigins = []string{
	"https://outlook.office.com", "https://outlook.office365.com", "https://outlook.live.com",
	"https://*.outlook.com", "https://*.office.com", "https://*.office365.com", "https://*.officeapps.live.com",
	"https://*.microsoft365.com",
}

// OfficeJSOrigin is the one third-party origin: Office.js must be loaded
// from Microsoft's CDN, as the platform requires.
const OfficeJSOrigin = "https://appsforoffice.microsoft.com"

// addinCSP lets Outlook frame the pane and Office.js load, and nothing else.
var addinCSP = strings.Join([]string{
	"default-src 'self'",
	"script-src 'self' " + OfficeJSOrigin,
	"style-src 'self'",
	"img-src 'self' data:",
	"connect-src 'self'",
	"object-src 'none'",
	"base-uri 'none'",
	"form-action 'self'",
	"frame-ancestors 'self' " + strings.Join(OutlookOrigins, " "),
}, "; ")

// mountAddin serves the add-in's static files under /addin/.
func (s *Server) mountAddin(files fs.FS) {
	s.app.Use("/addin", func(c *fiber.Ctx) error {
		c.Set("Content-Security-Policy", addinCSP)
		c.Set("Cache-Control", "no-cache") // revalidate, so a deployment reaches every pane
		return c.Next()
	}, filesystem.New(filesystem.Config{
		Root:         http.FS(files),
		Browse:       false,
		NotFoundFile: "",
	}))
}

// addinSettings tells the add-in what the admin's policy is.
func (s *Server) addinSettings(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"autoAdd": s.autoAdd()})
}

// manifestXML, manifestJSON and manifestZip serve the manifests for this
// deployment: the add-in only one, the unified one, and the unified one
// packaged with its icons as admins upload it.
func (s *Server) manifestXML(c *fiber.Ctx) error { return s.sendManifest(c, "xml") }

func (s *Server) manifestJSON(c *fiber.Ctx) error { return s.sendManifest(c, "json") }

func (s *Server) manifestZip(c *fiber.Ctx) error { return s.sendManifest(c, "zip") }

func (s *Server) sendManifest(c *fiber.Ctx, kind string) error {
	if s.deps.Manifest == nil {
		return scheduler.Errorf(scheduler.ECodeNotFound, "No manifest is configured.")
	}
	body, err := s.deps.Manifest(kind)
	if err != nil {
		return scheduler.Wrap(scheduler.ECodeConflict, "The manifest cannot be generated for this deployment: "+err.Error(), err)
	}
	switch kind {
	case "xml", "json":
		c.Type(kind, "utf-8")
	default:
		c.Type(kind)
	}
	c.Set("Content-Disposition", `attachment; filename="webscheduler-manifest.`+kind+`"`)
	return c.Send(body)
}
