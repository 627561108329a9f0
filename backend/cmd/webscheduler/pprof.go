//go:build pprof

// Profiling endpoints for benchmark builds only: `go build -tags pprof`
// adds net/http/pprof on WEBSCHEDULER_PPROF_ADDR (a loopback address of its
// own, never the service's listener). Release builds do not contain it.
package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"
)

func init() {
	addr := os.Getenv("WEBSCHEDULER_PPROF_ADDR")
	if addr == "" {
		return
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "webscheduler: WEBSCHEDULER_PPROF_ADDR must be a loopback host:port")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { fmt.Fprintln(os.Stderr, "webscheduler: pprof:", srv.ListenAndServe()) }()
}
