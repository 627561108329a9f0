package httpapi

import "net/http"

const qoePrefix = "/api/v1/admin/qoe"

// mountQoE serves call-quality ingestion and reports. Ingestion (bearer
// ingestion key) and Graph's notifications (clientState) carry their own
// credentials, so they come before the admin check; everything else is
// admin-only. With QoE off the handler answers 404 to every route.
func (s *Server) mountQoE() {
	if s.deps.QoE == nil {
		return
	}
	h := netHTTP(http.StripPrefix(qoePrefix, s.deps.QoE))
	for _, p := range s.deps.QoEOpenPaths {
		s.app.Post(qoePrefix+p, h)
	}
	s.app.All(qoePrefix+"/*", s.limitBody, s.adminIdentity, s.limitUser, s.requireAdmin, h)
}
