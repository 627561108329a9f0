package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// Control routes for the emulators of a running sandbox, so that tests and
// benchmarks driving the real binary from outside (browser tests, bench/)
// can do what in-process tests do with Faults(): make Microsoft's services
// slow or failing, count the requests they see, and turn on Graph's
// per-mailbox throttling. Like everything under /sandbox/, they exist only
// in sandbox mode.
//
//	POST /sandbox/faults   form service=graph|entra (default graph),
//	                       route (default "*": every route without its own),
//	                       status, delay, retryAfter (Go durations: "50ms"),
//	                       times; or clear=1 (remove route's fault) or
//	                       reset=1 (remove every fault, zero every counter)
//	GET  /sandbox/hits     ?service=…&route=…[&route=…]: requests per route
//	POST /sandbox/limits   form concurrent, requests, window: the emulated
//	                       Graph's per-mailbox limits (0: unlimited)
//	GET  /sandbox/limits   the limits and what they did so far
func (s *Sandbox) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /sandbox/faults", s.setFault)
	mux.HandleFunc("GET /sandbox/hits", s.hits)
	mux.HandleFunc("POST /sandbox/limits", s.setLimits)
	mux.HandleFunc("GET /sandbox/limits", s.limits)
}

// injector is the fault injector of the named emulator.
func (s *Sandbox) injector(service string) (*fault.Injector, bool) {
	switch service {
	case "", "graph":
		return s.Graph.Faults(), true
	case "entra":
		return s.Entra.Faults(), true
	}
	return nil, false
}

func (s *Sandbox) setFault(w http.ResponseWriter, r *http.Request) {
	inj, ok := s.injector(r.PostFormValue("service"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid", `service must be "graph" or "entra".`)
		return
	}
	route := r.PostFormValue("route")
	if route == "" {
		route = fault.All
	}
	switch {
	case r.PostFormValue("reset") == "1":
		inj.Reset()
		w.WriteHeader(http.StatusNoContent)
		return
	case r.PostFormValue("clear") == "1":
		inj.Clear(route)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f, err := parseFault(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	inj.Set(route, f)
	writeJSON(w, http.StatusOK, map[string]any{
		"route": route, "status": f.Status, "delay": f.Delay.String(), "retryAfter": f.RetryAfter.String(), "times": f.Times,
	})
}

func parseFault(r *http.Request) (fault.Fault, error) {
	var f fault.Fault
	var err error
	if f.Status, err = formInt(r, "status", 0, 599); err != nil {
		return f, err
	}
	if f.Status != 0 && f.Status < 400 {
		return f, fmt.Errorf("status must be an error status (400–599)")
	}
	if f.Times, err = formInt(r, "times", 0, 1<<30); err != nil {
		return f, err
	}
	if f.Delay, err = formDuration(r, "delay"); err != nil {
		return f, err
	}
	if f.RetryAfter, err = formDuration(r, "retryAfter"); err != nil {
		return f, err
	}
	return f, nil
}

func formInt(r *http.Request, name string, lo, hi int) (int, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// maxDelay keeps a typo from hanging the emulators for hours.
const maxDelay = 10 * time.Minute

func formDuration(r *http.Request, name string) (time.Duration, error) {
	v := strings.TrimSpace(r.PostFormValue(name))
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxDelay {
		return 0, fmt.Errorf("%s must be a duration from 0s to %s, such as 50ms", name, maxDelay)
	}
	return d, nil
}

func (s *Sandbox) hits(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	inj, ok := s.injector(q.Get("service"))
	if !ok {
		writeError(w, http.StatusBadRequest, "invalid", `service must be "graph" or "entra".`)
		return
	}
	if len(q["route"]) == 0 {
		writeError(w, http.StatusBadRequest, "invalid", "Name at least one route, such as route=me.")
		return
	}
	out := map[string]int{}
	for _, route := range q["route"] {
		out[route] = inj.Hits(route)
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": out})
}

func (s *Sandbox) setLimits(w http.ResponseWriter, r *http.Request) {
	var l emugraph.MailboxLimits
	var err error
	if l.Concurrent, err = formInt(r, "concurrent", 0, 1<<20); err == nil {
		if l.Requests, err = formInt(r, "requests", 0, 1<<30); err == nil {
			l.Window, err = formDuration(r, "window")
		}
	}
	if err == nil && l.Requests > 0 && l.Window <= 0 {
		err = fmt.Errorf("requests needs a window, such as 10m")
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	s.Graph.SetMailboxLimits(l)
	s.limits(w, r)
}

func (s *Sandbox) limits(w http.ResponseWriter, _ *http.Request) {
	l, st := s.Graph.MailboxLimits(), s.Graph.ThrottleStats()
	writeJSON(w, http.StatusOK, map[string]any{
		"concurrent": l.Concurrent, "requests": l.Requests, "window": l.Window.String(),
		"admitted": st.Admitted, "rejected": st.Rejected, "maxInFlight": st.MaxInFlight, "maxInWindow": st.MaxInWindow,
	})
}
