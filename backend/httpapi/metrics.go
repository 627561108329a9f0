package httpapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the service's Prometheus metrics, on a registry of its own
// (no global state, so tests can run servers side by side).
type Metrics struct {
	Registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	graphCalls    *prometheus.CounterVec
	graphLatency  prometheus.Histogram
	graphThrottle prometheus.Counter
}

// NewMetrics registers the metrics and the Go runtime collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webscheduler_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "webscheduler_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		graphCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webscheduler_graph_requests_total", Help: "Requests sent to Microsoft Graph by status (0: no answer).",
		}, []string{"status"}),
		graphLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "webscheduler_graph_request_duration_seconds", Help: "Time to Microsoft Graph's answer (headers), per request sent.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}),
		graphThrottle: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "webscheduler_graph_throttled_total", Help: "Graph answers of 429 Too Many Requests.",
		}),
	}
	m.Registry.MustRegister(m.requests, m.latency, m.graphCalls, m.graphLatency, m.graphThrottle,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) observe(route, method string, status int, d time.Duration) {
	method = stableMethod(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, method).Observe(d.Seconds())
}

// stableMethod returns a method name that stays valid after the request:
// Fiber's c.Method() points into the request buffer, which the connection's
// next request overwrites, and a label value is kept for good. Reused, a
// kept "GET" may turn into another method's name; the registry then holds
// two series with the same labels and /metrics answers 500.
func stableMethod(m string) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete, fiber.MethodHead, fiber.MethodOptions} {
		if m == known {
			return known
		}
	}
	return strings.Clone(m)
}

// ObserveGraph counts one Graph request and how long Graph took to
// answer; graph.Config.OnRequest calls it.
func (m *Metrics) ObserveGraph(status int, d time.Duration) {
	m.graphCalls.WithLabelValues(strconv.Itoa(status)).Inc()
	m.graphLatency.Observe(d.Seconds())
	if status == 429 {
		m.graphThrottle.Inc()
	}
}
