package httpapi

import (
	"testing"
	"time"
	"unsafe"
)

// Fiber hands out the method as a view of the request buffer; the next
// request on the connection overwrites it. A label value kept from such a
// view changed under the registry, and /metrics then failed with
// "collected before with the same name and label values".
func TestMetricsKeepNoRequestBuffer(t *testing.T) {
	t.Parallel()
	m := NewMetrics()
	buf := []byte("GET")
	method := unsafe.String(&buf[0], len(buf)) // as fiber.Ctx.Method() returns it
	m.observe("/api/v1/me", method, 200, time.Millisecond)
	copy(buf, "PUT") // the connection's next request
	m.observe("/api/v1/me", "GET", 200, time.Millisecond)
	m.observe("/api/v1/me", "PUT", 200, time.Millisecond)
	weird := []byte("PROPFIND")
	m.observe("/", unsafe.String(&weird[0], len(weird)), 404, time.Millisecond)
	copy(weird, "XXXXXXXX")
	if _, err := m.Registry.Gather(); err != nil {
		t.Fatal(err)
	}
}
