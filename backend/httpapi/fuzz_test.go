package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// FuzzDecodeJSON feeds decodeJSON, the one reader of every JSON body the
// API takes, arbitrary bodies into each request type, and validates what
// it accepts. It must never panic, refuse with invalid_request only, and
// accept only a single valid JSON object.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"subject":"Design review","start":"2026-12-01T09:00:00Z","end":"2026-12-01T10:00:00Z","timeZone":"UTC",` +
			`"attendees":["a@contoso.example"],"options":{"lobby":"company","presenters":"named","presenterList":["b@contoso.example"]},"eventId":"AAMk="}`,
		`{"start":"2026-12-01T09:00:00+01:00","options":{"phoneBypass":true}}`, `{"attendees":null}`,
		`{}`, `[]`, `null`, `{"subjct":"typo"}`, `{"a":1}{"b":2}`, `{"start":"tomorrow"}`, `{"options":{"lobby":7}}`,
		"\xef\xbb\xbf{}", `{"subject":"\u0000\ud800"}`, strings.Repeat(`{"a":`, 1000), `{"dryRun":true,"mailboxes":["x"]}`,
	} {
		f.Add(s, "application/json")
	}
	f.Add(`{}`, "text/plain")
	f.Add(`{}`, "application/json; charset=utf-8")
	app := fiber.New()
	f.Fuzz(func(t *testing.T, body, contentType string) {
		for _, into := range []func() any{
			func() any { return &meeting.Request{} },
			func() any { return &meeting.Patch{} },
			func() any { return &map[string]any{} },
		} {
			c := app.AcquireCtx(&fasthttp.RequestCtx{})
			c.Request().Header.SetContentType(contentType)
			c.Request().SetBodyString(body)
			v := into()
			err := decodeJSON(c, v)
			app.ReleaseCtx(c)
			if err != nil {
				if code := scheduler.ErrorCode(err); code != scheduler.ECodeInvalid {
					t.Fatalf("refused %q with %q", body, code)
				}
				if msg := scheduler.ErrorMessage(err); strings.Contains(msg, "json:") || len(msg) > 300+len(body) {
					t.Fatalf("the message leaks decoder internals: %q", msg)
				}
				continue
			}
			if !json.Valid([]byte(body)) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			if r, ok := v.(*meeting.Request); ok {
				_ = r.Validate() // must not panic on whatever decoded
			}
		}
	})
}
