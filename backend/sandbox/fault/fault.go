// Package fault injects failures and latency into the emulators' routes so
// tests can see how the product behaves when Microsoft's services misbehave.
package fault

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// All is the route name whose fault applies to every route without its own.
const All = "*"

// Fault describes what a route does instead of (or before) answering.
type Fault struct {
	// Status, when non-zero, is answered instead of the real response.
	Status int
	// RetryAfter is sent as Retry-After (whole seconds, at least 1) with Status.
	RetryAfter time.Duration
	// Delay is slept before answering, whether or not Status is set.
	Delay time.Duration
	// Times limits the fault to the next n requests; 0 means until cleared.
	Times int
}

// ErrorWriter writes an emulator's own error body for an injected status.
type ErrorWriter func(w http.ResponseWriter, status int)

// Injector holds the faults per route and counts the requests each route saw.
type Injector struct {
	mu     sync.Mutex
	faults map[string]*Fault
	hits   map[string]int
}

// New returns an Injector with no faults.
func New() *Injector {
	return &Injector{faults: map[string]*Fault{}, hits: map[string]int{}}
}

// Set installs f on route (or All), replacing any earlier fault there.
func (i *Injector) Set(route string, f Fault) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.faults[route] = &f
}

// Clear removes the fault on route.
func (i *Injector) Clear(route string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.faults, route)
}

// Reset removes every fault and zeroes the counters.
func (i *Injector) Reset() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.faults = map[string]*Fault{}
	i.hits = map[string]int{}
}

// Hits returns how many requests route has received.
func (i *Injector) Hits(route string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.hits[route]
}

// take counts a request on route and returns the fault to apply, if any.
func (i *Injector) take(route string) (Fault, bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.hits[route]++
	f, ok := i.faults[route]
	if !ok {
		f, ok = i.faults[All]
	}
	if !ok {
		return Fault{}, false
	}
	out := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			for k, v := range i.faults {
				if v == f {
					delete(i.faults, k)
				}
			}
		}
	}
	return out, true
}

// Wrap returns h with route's faults applied and its requests counted.
func (i *Injector) Wrap(route string, h http.Handler, writeErr ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := i.take(route)
		if ok && f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if ok && f.Status != 0 {
			if f.RetryAfter > 0 {
				secs := int((f.RetryAfter + time.Second - 1) / time.Second)
				w.Header().Set("Retry-After", strconv.Itoa(secs))
			}
			writeErr(w, f.Status)
			return
		}
		h.ServeHTTP(w, r)
	})
}
