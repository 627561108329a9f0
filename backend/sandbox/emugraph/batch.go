package emugraph

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// JSON batching (POST /$batch), as shown by the docs example in
// shared/oracles/graph-examples/json-batching.*. It is in neither the CSDL
// nor the spec, so the payload is checked by hand; each sub-request then runs
// through dispatch exactly as if it had been sent alone (validation,
// authentication with the batch's token, faults and hit counting).

// batchLimit is Graph's maximum number of requests in one batch.
const batchLimit = 20

type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

var batchMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (c *call) batch() {
	if !c.allowQuery() {
		return
	}
	var raw json.RawMessage
	if !c.decode(&raw) {
		return
	}
	var req struct {
		Requests []batchItem `json:"requests"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		c.fail(errorf(http.StatusBadRequest, "BadRequest", "Invalid batch payload format: %v", err))
		return
	}
	order, aerr := checkBatch(req.Requests)
	if aerr != nil {
		c.fail(aerr)
		return
	}
	// As in Graph, requests run concurrently, each once those it dependsOn
	// have finished: several requests for one mailbox in one batch meet
	// its concurrency limit (throttle.go) as they would in Exchange.
	var mu sync.Mutex
	status := map[string]int{}
	finished := map[string]chan struct{}{}
	for _, it := range req.Requests {
		finished[it.ID] = make(chan struct{})
	}
	responses := make([]any, len(req.Requests))
	var wg sync.WaitGroup
	for _, i := range order {
		it := req.Requests[i]
		wg.Go(func() {
			defer close(finished[it.ID])
			for _, d := range it.DependsOn {
				<-finished[d]
			}
			mu.Lock()
			failed := slices.ContainsFunc(it.DependsOn, func(d string) bool { return status[d] >= 400 })
			mu.Unlock()
			rec := newRecorder(c.r)
			sub, aerr := c.subRequest(it)
			switch {
			case failed:
				c.s.writeError(rec, errorf(http.StatusFailedDependency, "FailedDependency", "The request depends on a request of the batch that failed."))
			case aerr != nil:
				c.s.writeError(rec, aerr)
			default:
				rec = c.s.dispatch(sub)
			}
			mu.Lock()
			status[it.ID] = rec.status
			mu.Unlock()
			responses[i] = batchResponse(it.ID, rec)
		})
	}
	wg.Wait()
	c.reply(http.StatusOK, map[string]any{"responses": responses})
}

// checkBatch refuses a malformed batch as a whole, as Graph does, and returns
// the order to run its requests in: dependencies first, otherwise as sent.
func checkBatch(items []batchItem) ([]int, *apiError) {
	bad := func(format string, args ...any) ([]int, *apiError) {
		return nil, errorf(http.StatusBadRequest, "BadRequest", format, args...)
	}
	switch {
	case len(items) == 0:
		return bad("Invalid batch payload format: 'requests' must hold at least one request.")
	case len(items) > batchLimit:
		return bad("The batch holds %d requests; the limit is %d.", len(items), batchLimit)
	}
	ids := map[string]bool{}
	for i := range items {
		it := &items[i]
		it.Method = strings.ToUpper(it.Method)
		switch {
		case it.ID == "":
			return bad("Invalid batch payload format: request %d has no id.", i)
		case ids[it.ID]:
			return bad("Invalid batch payload format: the id '%s' is used by more than one request.", it.ID)
		case !slices.Contains(batchMethods, it.Method):
			return bad("Invalid batch payload format: request '%s' has an invalid method '%s'.", it.ID, it.Method)
		case it.URL == "":
			return bad("Invalid batch payload format: request '%s' has no url.", it.ID)
		case hasBody(it) && contentType(it) == "":
			return bad("Write request id : %s does not contain Content-Type header or body.", it.ID)
		}
		ids[it.ID] = true
	}
	for _, it := range items {
		for _, d := range it.DependsOn {
			if !ids[d] || d == it.ID {
				return bad("Invalid batch payload format: request '%s' depends on unknown request '%s'.", it.ID, d)
			}
		}
	}
	done := make([]bool, len(items))
	var order []int
	for len(order) < len(items) {
		progressed := false
		for i, it := range items {
			ready := !done[i] && !slices.ContainsFunc(it.DependsOn, func(d string) bool {
				return !done[slices.IndexFunc(items, func(x batchItem) bool { return x.ID == d })]
			})
			if ready {
				done[i], progressed = true, true
				order = append(order, i)
			}
		}
		if !progressed {
			return bad("Invalid batch payload format: the requests' dependsOn form a cycle.")
		}
	}
	return order, nil
}

func hasBody(it *batchItem) bool { return len(it.Body) > 0 && string(it.Body) != "null" }

func contentType(it *batchItem) string {
	for k, v := range it.Headers {
		if strings.EqualFold(k, "Content-Type") {
			return v
		}
	}
	return ""
}

func isJSONType(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/json"
}

// subRequest builds the request a batch item stands for. Its body is JSON, or
// a base64 string for other content types, as Graph documents.
func (c *call) subRequest(it batchItem) (*http.Request, *apiError) {
	u := it.URL
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	if strings.HasPrefix(u, "/$batch") {
		return nil, errorf(http.StatusBadRequest, "BadRequest", "A $batch cannot contain another $batch.")
	}
	var body []byte
	if hasBody(&it) {
		body = it.Body
		var s string
		if json.Unmarshal(it.Body, &s) == nil && !isJSONType(contentType(&it)) {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, errorf(http.StatusBadRequest, "BadRequest", "The body of request '%s' is neither JSON nor base64.", it.ID)
			}
			body = b
		}
	}
	r, err := http.NewRequestWithContext(c.r.Context(), it.Method, apiVersion+u, bytes.NewReader(body))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "BadRequest", "Invalid request URL '%s'.", it.URL)
	}
	for k, v := range it.Headers {
		r.Header.Set(k, v)
	}
	r.Header.Del("Authorization")
	if a := c.r.Header.Get("Authorization"); a != "" {
		r.Header.Set("Authorization", a) // every sub-request runs with the batch's token
	}
	r.Host = c.r.Host
	return r, nil
}

// batchResponse is one item of the batch's responses.
func batchResponse(id string, rec *recorder) map[string]any {
	h := map[string]string{}
	for k, v := range rec.header {
		switch k {
		case "Request-Id", "Client-Request-Id", "Content-Length":
			continue
		}
		h[k] = strings.Join(v, ", ")
	}
	out := map[string]any{"id": id, "status": rec.status, "headers": h}
	if rec.body.Len() > 0 {
		if isJSONType(rec.header.Get("Content-Type")) {
			out["body"] = json.RawMessage(rec.body.Bytes())
		} else {
			out["body"] = base64.StdEncoding.EncodeToString(rec.body.Bytes())
		}
	}
	return out
}
