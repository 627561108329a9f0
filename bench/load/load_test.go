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
	}
	if testing.Verbose() {
		cfg.Log = os.Stderr
	}
	res, err := run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) != 4 {
		t.Fatalf("%d scenarios, want 4", len(res.Scenarios))
	}
	for _, s := range res.Scenarios {
		if s.Requests == 0 || len(s.Errors) > 0 || s.Throughput <= 0 || s.P50 <= 0 || s.P99 < s.P50 || s.Allocs <= 0 || s.PeakRSSKB <= 0 {
			t.Errorf("%s at %d clients: %+v", s.Endpoint, s.Clients, s)
		}
		// With a warm session the service reads nothing from Graph for
		// /me, and stamps an item with one read and one write.
		want := map[string]float64{endpointMe: 0, endpointMeetings: 2}[s.Endpoint]
		if s.GraphCalls != want || s.GraphHits != want || s.TokenCalls != 0 {
			t.Errorf("%s: %.2f Graph calls (%.2f seen by Graph), %.2f token requests per request; want %v, %v, 0",
				s.Endpoint, s.GraphCalls, s.GraphHits, s.TokenCalls, want, want)
		}
	}
	if res.IdleRSSKB <= 0 || res.GraphPerMeet != 2 {
		t.Errorf("results %+v", res)
	}
	md, _ := os.ReadFile(cfg.MD)
	for _, want := range []string{"| `GET /api/v1/me` | 1 |", "| `POST /api/v1/meetings` + calendar write | 3 |", "Graph calls per add-online-meeting"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
}
