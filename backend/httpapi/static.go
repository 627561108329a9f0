package httpapi

import (
	"embed"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// staticFiles are the server-rendered pages' stylesheet and scripts: files,
// not inline, so the Content-Security-Policy needs no 'unsafe-inline'.
//
//go:embed static
var staticFiles embed.FS

func (s *Server) mountStatic() {
	s.app.Use("/static", func(c *fiber.Ctx) error {
		c.Set("Cache-Control", "no-cache")
		return c.Next()
	}, filesystem.New(filesystem.Config{Root: http.FS(staticFiles), PathPrefix: "static"}))
}
