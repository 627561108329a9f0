package httpapi

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// clientAddr is the address a request came from, for the per-address rate
// limit. Behind the reverse proxies in Deps.TrustedProxies it is the
// rightmost address of X-Forwarded-For that is not one of them: each proxy
// appends the address it was reached from, so anything left of the first
// untrusted hop may be the client's own invention. Without trusted proxies
// (the default) the header is ignored and the peer counts.
func (s *Server) clientAddr(c *fiber.Ctx) string {
	hop, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return c.IP()
	}
	hop = hop.Unmap()
	if !s.trustedProxy(hop) {
		return hop.String()
	}
	var list []string
	for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		list = append(list, strings.Split(string(h), ",")...)
	}
	for _, v := range slices.Backward(list) {
		a, err := parseHop(strings.TrimSpace(v))
		if err != nil {
			break // unparseable: what lies left of it cannot be trusted either
		}
		hop = a
		if !s.trustedProxy(hop) {
			break
		}
	}
	return hop.String()
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.deps.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("192.0.2.1:4711", "[2001:db8::1]:4711").
func parseHop(v string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(v); err == nil {
		return ap.Addr().Unmap(), nil
	}
	a, err := netip.ParseAddr(v)
	return a.Unmap(), err
}
