package emugraph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// batchItems returns the responses of a batch by id.
func batchItems(t *testing.T, r response) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, v := range r.json["responses"].([]any) {
		item := v.(map[string]any)
		out[item["id"].(string)] = item
	}
	return out
}

func TestBatch(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		ev := sdkEvent("batched", "2024-04-15T11:00:00", "2024-04-15T12:00:00")
		// As msgraph-sdk-go sends it: gzip, lower-case header names, an empty
		// dependsOn and a null body.
		payload, _ := json.Marshal(map[string]any{"requests": []any{
			map[string]any{"id": "1", "method": "POST", "url": "/me/events", "headers": map[string]string{"content-type": "application/json"}, "body": ev, "dependsOn": []string{}},
			map[string]any{"id": "2", "method": "GET", "url": "me/events?$select=subject", "headers": map[string]string{"accept": "application/json"}, "body": nil, "dependsOn": []string{"1"}},
			map[string]any{"id": "3", "method": "GET", "url": "/me/events/not-an-id", "dependsOn": []string{}},
			map[string]any{"id": "4", "method": "DELETE", "url": "/me/events/not-an-id", "dependsOn": []string{"3"}},
			map[string]any{"id": "5", "method": "GET", "url": "/me?$select=displayName"},
		}})
		req, _ := http.NewRequest(http.MethodPost, e.base+"/$batch", strings.NewReader(string(gzipped(t, payload))))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		req.Header.Set("Authorization", "Bearer "+adele)
		items := batchItems(t, e.send(req).must(t, http.StatusOK))
		for id, status := range map[string]float64{"1": 201, "2": 200, "3": 400, "4": 424, "5": 200} {
			if items[id]["status"] != status {
				t.Errorf("item %s: status %v, want %v: %v", id, items[id]["status"], status, items[id])
			}
		}
		if get(items["2"], "body", "value", 0, "subject") != "batched" {
			t.Errorf("item 2 should see item 1's event: %v", items["2"]["body"])
		}
		if get(items["1"], "headers", "Content-Type") == nil || get(items["1"], "headers", "Etag") == nil {
			t.Errorf("item 1 headers: %v", items["1"]["headers"])
		}
		if get(items["4"], "body", "error", "code") != "FailedDependency" {
			t.Errorf("item 4: %v", items["4"])
		}
		for route, hits := range map[string]int{emugraph.RouteBatch: 1, emugraph.RouteEventsCreate: 1, emugraph.RouteEventsList: 1, emugraph.RouteEventsGet: 1, emugraph.RouteEventsDelete: 0, emugraph.RouteMe: 1} {
			if got := e.srv.Faults().Hits(route); got != hits {
				t.Errorf("hits %s = %d, want %d", route, got, hits)
			}
		}

		item := func(id string) map[string]any { return map[string]any{"id": id, "method": "GET", "url": "/me"} }
		var many []any
		for i := range 21 {
			many = append(many, item(fmt.Sprint(i)))
		}
		for name, body := range map[string]any{
			"more than 20":               map[string]any{"requests": many},
			"no requests":                map[string]any{"requests": []any{}},
			"duplicate ids":              map[string]any{"requests": []any{item("1"), item("1")}},
			"no url":                     map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET"}}},
			"no method":                  map[string]any{"requests": []any{map[string]any{"id": "1", "url": "/me"}}},
			"bad method":                 map[string]any{"requests": []any{map[string]any{"id": "1", "method": "TRACE", "url": "/me"}}},
			"body without Content-Type":  map[string]any{"requests": []any{map[string]any{"id": "1", "method": "POST", "url": "/me/events", "body": ev}}},
			"unknown dependency":         map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"9"}}}},
			"dependency cycle":           map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "/me", "dependsOn": []string{"2"}}, map[string]any{"id": "2", "method": "GET", "url": "/me", "dependsOn": []string{"1"}}}},
			"unknown property in a item": map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "/me", "atomicityGroup": "g"}}},
		} {
			if r := e.call(http.MethodPost, "/$batch", adele, body); r.status != http.StatusBadRequest {
				t.Errorf("%s: status %d: %s", name, r.status, r.raw)
			}
		}
		nested := e.call(http.MethodPost, "/$batch", adele, map[string]any{"requests": []any{map[string]any{"id": "1", "method": "POST", "url": "/$batch"}}}).must(t, http.StatusOK)
		if s := batchItems(t, nested)["1"]["status"]; s != float64(400) {
			t.Errorf("nested $batch: %v", s)
		}
		if r := e.call(http.MethodPost, "/$batch", "", map[string]any{"requests": []any{item("1")}}); r.status != http.StatusUnauthorized {
			t.Errorf("batch without a token: %d", r.status)
		}
	})
}

// TestBatchDocsExample feeds the JSON batching example of Graph's docs and
// checks every response item has the shape of the docs' example response.
// Its URLs (/me/memberOf, /groups, ...) are not emulated, so every item is a
// Graph-shaped error.
func TestBatchDocsExample(t *testing.T) {
	t.Parallel()
	reqBody := readOracle(t, "graph-examples/json-batching.request.json")
	var want struct {
		Responses []map[string]any `json:"responses"`
	}
	if err := json.Unmarshal(readOracle(t, "graph-examples/json-batching.response.json"), &want); err != nil {
		t.Fatal(err)
	}
	modes(t, func(t *testing.T, e *env) {
		got := batchItems(t, e.call(http.MethodPost, "/$batch", adele, string(reqBody)).must(t, http.StatusOK))
		if len(got) != len(want.Responses) {
			t.Fatalf("%d responses, want %d", len(got), len(want.Responses))
		}
		for _, w := range want.Responses {
			g := got[w["id"].(string)]
			if g == nil {
				t.Errorf("no response for id %v", w["id"])
				continue
			}
			if !slices.Equal(sortedKeys(g), sortedKeys(w)) {
				t.Errorf("item %v keys %v, want %v", w["id"], sortedKeys(g), sortedKeys(w))
			}
			for _, k := range []string{"id", "status", "headers", "body"} {
				if reflect.TypeOf(g[k]) != reflect.TypeOf(w[k]) {
					t.Errorf("item %v: %s is %T, want %T", w["id"], k, g[k], w[k])
				}
			}
			for h, v := range g["headers"].(map[string]any) {
				if _, ok := v.(string); !ok {
					t.Errorf("item %v: header %s is %T", w["id"], h, v)
				}
			}
			if status := g["status"].(float64); status != 400 && status != 404 {
				t.Errorf("item %v: status %v for an URL the emulator does not serve", w["id"], status)
			}
			// The docs' error items show the shape of Graph's error body.
			if we, ok := w["body"].(map[string]any)["error"].(map[string]any); ok {
				ge, _ := g["body"].(map[string]any)["error"].(map[string]any)
				if !slices.Equal(sortedKeys(ge), sortedKeys(we)) || !slices.Equal(sortedKeys(ge["innerError"].(map[string]any)), sortedKeys(we["innerError"].(map[string]any))) {
					t.Errorf("item %v error %v, want the shape of %v", w["id"], ge, we)
				}
			}
		}
	})
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func TestFaults(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		faults := e.srv.Faults()
		faults.Set(emugraph.RouteEventsList, fault.Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: 1})
		r := e.call(http.MethodGet, "/me/events", adele, nil)
		if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" || r.errorCode() != "TooManyRequests" {
			t.Errorf("429: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.raw)
		}
		e.call(http.MethodGet, "/me/events", adele, nil).must(t, http.StatusOK)
		if hits := faults.Hits(emugraph.RouteEventsList); hits != 2 {
			t.Errorf("hits %d", hits)
		}

		faults.Set(emugraph.RouteMe, fault.Fault{Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second, Times: 1})
		faults.Set(emugraph.RouteMailbox, fault.Fault{Status: http.StatusServiceUnavailable, Times: 1})
		batch := e.call(http.MethodPost, "/$batch", adele, map[string]any{"requests": []any{
			map[string]any{"id": "me", "method": "GET", "url": "/me"},
			map[string]any{"id": "settings", "method": "GET", "url": "/me/mailboxSettings"},
			map[string]any{"id": "events", "method": "GET", "url": "/me/events"},
		}}).must(t, http.StatusOK)
		items := batchItems(t, batch)
		if items["me"]["status"] != float64(429) || get(items["me"], "headers", "Retry-After") != "3" || get(items["me"], "body", "error", "code") != "TooManyRequests" {
			t.Errorf("429 inside $batch: %v", items["me"])
		}
		if items["settings"]["status"] != float64(503) || get(items["settings"], "body", "error", "code") != "ServiceNotAvailable" {
			t.Errorf("503 inside $batch: %v", items["settings"])
		}
		if items["events"]["status"] != float64(200) {
			t.Errorf("unfaulted item: %v", items["events"]["status"])
		}
		if faults.Hits(emugraph.RouteMe) != 1 || faults.Hits(emugraph.RouteEventsList) != 3 || faults.Hits(emugraph.RouteBatch) != 1 {
			t.Errorf("hits me=%d events.list=%d batch=%d", faults.Hits(emugraph.RouteMe), faults.Hits(emugraph.RouteEventsList), faults.Hits(emugraph.RouteBatch))
		}

		faults.Set(emugraph.RouteBatch, fault.Fault{Status: http.StatusInternalServerError, Times: 1})
		if r := e.call(http.MethodPost, "/$batch", adele, map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "/me"}}}); r.status != 500 || r.errorCode() != "generalException" {
			t.Errorf("500 on the batch: %d %s", r.status, r.raw)
		}
		faults.Set(emugraph.RouteMe, fault.Fault{Delay: 50 * time.Millisecond, Times: 1})
		start := time.Now()
		e.call(http.MethodGet, "/me", adele, nil).must(t, http.StatusOK)
		if time.Since(start) < 50*time.Millisecond {
			t.Error("delay not applied")
		}
	})
}
