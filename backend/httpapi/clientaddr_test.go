package httpapi

import (
	"io"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestClientAddr(t *testing.T) {
	t.Parallel()
	// fiber's app.Test connects from 0.0.0.0.
	for _, tc := range []struct {
		trusted []string
		xff     []string
		want    string
	}{
		{nil, []string{"198.51.100.7"}, "0.0.0.0"},
		{[]string{"0.0.0.0/32"}, nil, "0.0.0.0"},
		{[]string{"0.0.0.0/32"}, []string{"198.51.100.7"}, "198.51.100.7"},
		{[]string{"0.0.0.0/32", "10.0.0.0/8"}, []string{"203.0.113.1, 198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{[]string{"0.0.0.0/32", "10.0.0.0/8"}, []string{"203.0.113.1", "198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
		{[]string{"0.0.0.0/32"}, []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{[]string{"0.0.0.0/32"}, []string{"::ffff:198.51.100.9"}, "198.51.100.9"},
		{[]string{"0.0.0.0/32", "10.0.0.0/8"}, []string{"198.51.100.7, bogus, 10.1.1.1"}, "10.1.1.1"},
		{[]string{"0.0.0.0/32", "10.0.0.0/8"}, []string{"10.2.2.2, 10.1.1.1"}, "10.2.2.2"},
	} {
		s := &Server{}
		for _, p := range tc.trusted {
			s.deps.TrustedProxies = append(s.deps.TrustedProxies, netip.MustParsePrefix(p))
		}
		app := fiber.New()
		app.Get("/", func(c *fiber.Ctx) error { return c.SendString(s.clientAddr(c)) })
		req := httptest.NewRequest("GET", "/", nil)
		for _, v := range tc.xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != tc.want {
			t.Errorf("trusted %v, X-Forwarded-For %q: %q, want %q", tc.trusted, tc.xff, got, tc.want)
		}
	}
}
