// Command load measures the request path of the real webscheduler binary:
// it builds the binary once, starts it in sandbox mode with a real Redis,
// makes the emulated Graph answer after a fixed latency, and drives
// GET /api/v1/me and POST /api/v1/meetings (stamping an existing calendar
// item) with closed-loop clients at several concurrency levels (capacity),
// then with many clients sending at a fixed offered rate (latency below
// saturation, so overhead is the service's cost, not queueing). It reports
// throughput, latency percentiles, the backend's own overhead (latency
// minus the Graph latency it waited for, from counted Graph calls),
// allocations, CPU and RSS of the process, and writes a Markdown table for
// BENCHMARKS.md (see bench/README.md). Everything runs on loopback and
// stops by itself. No number is judged here: goals live in BENCHMARKS.md.
//
//	go run ./bench/load -md out.md        # the full set, about two minutes
//	go run ./bench/load -clients 50 -endpoints meetings -profile prof/
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	Bin       string        // prebuilt binary; "" builds one
	Redis     string        // Redis URL; its database is flushed before and after
	Latency   time.Duration // injected on every emulated Graph route
	Clients   []int
	Duration  time.Duration // measured time per scenario
	Warmup    time.Duration // unmeasured time per scenario
	MaxPerRun int           // requests per scenario at most (bounds memory)
	Endpoints []string      // "me", "meetings"
	// Open-loop rows: OpenClients clients sending on a fixed schedule
	// that adds up to OpenRate[endpoint] requests per second.
	OpenClients int
	OpenRate    map[string]float64
	ProfileDir  string    // with a pprof build: CPU and allocation profiles per scenario
	JSON        string    // results as JSON
	MD          string    // results as a Markdown fragment
	Log         io.Writer // progress
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := parseFlags(os.Args[1:])
	if err == nil {
		_, err = run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	cfg := config{Log: os.Stderr}
	clients := fs.String("clients", "1,50,200", "concurrency levels (comma list)")
	endpoints := fs.String("endpoints", "me,meetings", "what to measure: me, meetings")
	fs.StringVar(&cfg.Bin, "bin", "", "webscheduler binary to run (default: go build one)")
	fs.StringVar(&cfg.Redis, "redis", "", "Redis URL for the service, its database FLUSHed before and after (default: a private redis-server)")
	fs.DurationVar(&cfg.Latency, "latency", 50*time.Millisecond, "latency of every emulated Graph request")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time per scenario")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured warm-up per scenario")
	fs.IntVar(&cfg.MaxPerRun, "max", 200000, "most requests per scenario")
	fs.IntVar(&cfg.OpenClients, "open-clients", 200, "clients of the open-loop rows")
	openRate := fs.String("open-rate", "me=2000,meetings=200", "open-loop rows: requests per second offered in all, per endpoint (empty: none)")
	fs.StringVar(&cfg.ProfileDir, "profile", "", "build with -tags pprof (with -bin: give such a build) and save CPU and allocation profiles per scenario here")
	fs.StringVar(&cfg.JSON, "json", "", "write results as JSON to this file")
	fs.StringVar(&cfg.MD, "md", "", "write the results table (Markdown) to this file")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 10000 {
			return cfg, fmt.Errorf("-clients: %q is not a number from 1 to 10000", c)
		}
		cfg.Clients = append(cfg.Clients, n)
	}
	for _, e := range strings.Split(*endpoints, ",") {
		e = strings.TrimSpace(e)
		if e != endpointMe && e != endpointMeetings {
			return cfg, fmt.Errorf("-endpoints: unknown %q", e)
		}
		cfg.Endpoints = append(cfg.Endpoints, e)
	}
	cfg.OpenRate = map[string]float64{}
	for _, kv := range strings.Split(*openRate, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		ep, v, _ := strings.Cut(kv, "=")
		r, err := strconv.ParseFloat(v, 64)
		if (ep != endpointMe && ep != endpointMeetings) || err != nil || r <= 0 {
			return cfg, fmt.Errorf("-open-rate: %q is not endpoint=requests per second", kv)
		}
		cfg.OpenRate[ep] = r
	}
	if len(cfg.OpenRate) > 0 && (cfg.OpenClients < 1 || cfg.OpenClients > 10000) {
		return cfg, errors.New("-open-clients: give a number from 1 to 10000")
	}
	if cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.MaxPerRun < 1 {
		return cfg, errors.New("-duration, -warmup and -max must be positive")
	}
	return cfg, nil
}

// run measures every scenario and writes the results.
func run(ctx context.Context, cfg config) (*Results, error) {
	res, err := measure(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.JSON != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(cfg.JSON, append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
	}
	md := res.Markdown()
	if cfg.MD != "" {
		if err := os.WriteFile(cfg.MD, []byte(md), 0o644); err != nil {
			return nil, err
		}
	}
	fmt.Fprint(cfg.Log, md)
	return res, nil
}
