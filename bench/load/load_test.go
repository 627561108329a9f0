package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// TestShort runs the whole benchmark with tiny counts against the real
// binary, to keep it working (`make test`). It checks what the numbers
// must be, never how fast they are. WEBSCHEDULER_BIN names a prebuilt
// binary; without it the test builds one.
func TestShort(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the service")
	}
	dir := t.TempDir()
	cfg := config{
		Bin: os.Getenv("WEBSCHEDULER_BIN"), Latency: 5 * time.Millisecond, Clients: []int{1, 3},
		Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond, MaxPerRun: 200,
		Endpoints: []string{endpointMe, endpointMeetings}, MD: dir + "/out.md", JSON: dir + "/out.json", Log: io.Discard,
		OpenClients: 4, OpenRate: map[string]float64{endpointMe: 40, endpointMeetings: 20},
	}
	if testing.Verbose() {
		cfg.Log = os.Stderr
	}
	res, err := run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) != 6 {
		t.Fatalf("%d scenarios, want 6", len(res.Scenarios))
	}
	for _, s := range res.Scenarios {
		if s.Requests == 0 || len(s.Errors) > 0 || s.Throughput <= 0 || s.P50 <= 0 || s.P99 < s.P50 || s.Allocs <= 0 || s.PeakRSSKB <= 0 {
			t.Errorf("%s at %d clients: %+v", s.Endpoint, s.Clients, s)
		}
		// An open-loop schedule never sends more than its slots allow.
		if r := cfg.OpenRate[s.Endpoint]; s.Offered != 0 && (s.Offered != r || s.Clients != 4 || float64(s.Requests) > r*cfg.Duration.Seconds()+4) {
			t.Errorf("open-loop %s: %d requests at %d clients, offered %v/s in %v", s.Endpoint, s.Requests, s.Clients, s.Offered, cfg.Duration)
		}
		// With a warm session the service reads nothing from Graph for
		// /me, and stamps an item with one read and one write.
		want := map[string]float64{endpointMe: 0, endpointMeetings: 2}[s.Endpoint]
		// The service waits at least the injected latency per Graph call.
		if s.GraphMs < want*ms(cfg.Latency) {
			t.Errorf("%s: %.2f ms waiting for Graph per request, less than %v calls × %v", s.Endpoint, s.GraphMs, want, cfg.Latency)
		}
		if s.GraphCalls != want || s.GraphHits != want || s.TokenCalls != 0 {
			t.Errorf("%s: %.2f Graph calls (%.2f seen by Graph), %.2f token requests per request; want %v, %v, 0",
				s.Endpoint, s.GraphCalls, s.GraphHits, s.TokenCalls, want, want)
		}
	}
	if res.IdleRSSKB <= 0 || res.GraphPerMeet != 2 {
		t.Errorf("results %+v", res)
	}
	md, _ := os.ReadFile(cfg.MD)
	for _, want := range []string{"| `GET /api/v1/me` | 1 |", "| `POST /api/v1/meetings` + calendar write | 3 |", "| `GET /api/v1/me` | 4 at 40/s |", "Graph calls per add-online-meeting"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
}
