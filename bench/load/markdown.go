package main

import (
	"fmt"
	"strings"
)

var endpointNames = map[string]string{
	endpointMe:       "`GET /api/v1/me`",
	endpointMeetings: "`POST /api/v1/meetings` + calendar write",
}

func mb(kb int64) string { return fmt.Sprintf("%.1f MB", float64(kb)/1024) }

// Markdown renders the results as the tables BENCHMARKS.md shows.
func (r *Results) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s: Redis %s, emulated Graph latency %s, %s per row after a warm-up; load average before the run %s.\n\n",
		r.Date, r.Redis, r.Latency, r.Duration, r.LoadAverage)
	b.WriteString("| request | clients | req/s | p50 | p99 | Graph calls/req | Graph time/req | overhead p50 | overhead p99 | allocs/req | alloc/req | service CPU/req | RSS under load | errors |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range r.Scenarios {
		errs := 0
		for _, v := range s.Errors {
			errs += v
		}
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.1f ms | %.1f ms | %.2f | %.1f ms | %.1f ms | %.1f ms | %.0f | %.1f KB | %.2f ms | %s | %d |\n",
			endpointNames[s.Endpoint], s.load(), s.Throughput, s.P50, s.P99, s.GraphCalls, s.GraphMs, s.OverheadP50, s.OverheadP99,
			s.Allocs, s.AllocKB, s.CPUms, mb(s.PeakRSSKB), errs)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "RSS: %s right after start; %s idle with warm sessions (%s private, %s pages of the binary); %s idle after the load; %s peak.\n\n",
		mb(r.StartRSSKB), mb(r.IdleRSSKB), mb(r.IdleAnonKB), mb(r.IdleFileKB), mb(r.EndRSSKB), mb(r.PeakRSSKB))

	b.WriteString("| goal | target | measured |\n|---|---|---|\n")
	for _, ep := range []string{endpointMe, endpointMeetings} {
		// Below saturation when there is such a row: queueing is not overhead.
		var at *Scenario
		for i, s := range r.Scenarios {
			if s.Endpoint == ep && s.Clients == 200 && (at == nil || s.Offered > 0) {
				at = &r.Scenarios[i]
			}
		}
		if at != nil {
			fmt.Fprintf(&b, "| overhead at 200 concurrent clients, %s, %s | p50 ≤ 2 ms, p99 ≤ 10 ms | p50 %.1f ms, p99 %.1f ms |\n",
				endpointNames[ep], at.mode(), at.OverheadP50, at.OverheadP99)
		}
	}
	best := 0.0
	for _, s := range r.Scenarios {
		if s.Endpoint == endpointMe {
			best = max(best, s.Throughput)
		}
	}
	if best > 0 {
		fmt.Fprintf(&b, "| `GET /api/v1/me` throughput, warm session | ≥ 2,000 req/s | %.0f req/s |\n", best)
	}
	if r.GraphPerMeet > 0 {
		fmt.Fprintf(&b, "| Graph calls per add-online-meeting, warm session (counted) | ≤ 2 | %.2f |\n", r.GraphPerMeet)
	}
	fmt.Fprintf(&b, "| idle RSS | ≤ 40 MB | %s with warm sessions, %s of it private |\n", mb(r.IdleRSSKB), mb(r.IdleAnonKB))
	return b.String()
}

// load is the clients column: their number, and the offered rate of an
// open-loop row.
func (s Scenario) load() string {
	if s.Offered > 0 {
		return fmt.Sprintf("%d at %s/s", s.Clients, thousands(s.Offered))
	}
	return fmt.Sprint(s.Clients)
}

func (s Scenario) mode() string {
	if s.Offered > 0 {
		return fmt.Sprintf("%s req/s offered", thousands(s.Offered))
	}
	return "closed loop (saturated)"
}

// thousands writes a whole number with thousands separators.
func thousands(v float64) string {
	d := fmt.Sprintf("%.0f", v)
	for i := len(d) - 3; i > 0; i -= 3 {
		d = d[:i] + "," + d[i:]
	}
	return d
}
