package emugraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Teams call records (GET /communications/callRecords/{id}) and change
// notification subscriptions (subscriptions.go), the part of Graph a
// call-quality collector uses. Neither is in the spec subset: requests are
// checked by hand and the tests check the records against Graph's CSDL.
// Both are app-only: Graph grants call records only to the application
// permission CallRecords.Read.All.

// Route names of the tenant-wide (not per-user) routes, for fault injection.
const (
	RouteCallRecordsGet      = "callRecords.get"
	RouteCallRecordSessions  = "callRecords.sessions"
	RouteSubscriptionsCreate = "subscriptions.create"
	RouteSubscriptionsGet    = "subscriptions.get"
	RouteSubscriptionsUpdate = "subscriptions.update"
	RouteSubscriptionsDelete = "subscriptions.delete"
)

// callRecordsRole is the application permission the call-record routes need.
const callRecordsRole = "CallRecords.Read.All"

// sessionPage is how many sessions one response carries; the rest follow
// through sessions@odata.nextLink, as Graph pages large records.
const sessionPage = 60

// tenantRoutes are the routes outside /me and /users/{id}; they need no
// mailbox owner, so they are authorized by requireRole instead of access.
var tenantRoutes = []resource{
	{"communications/callRecords/{id}", map[string]*route{
		http.MethodGet: {name: RouteCallRecordsGet, handle: (*call).getCallRecord},
	}},
	{"communications/callRecords/{id}/sessions", map[string]*route{
		http.MethodGet: {name: RouteCallRecordSessions, handle: (*call).listCallRecordSessions},
	}},
	{"subscriptions", map[string]*route{
		http.MethodPost: {name: RouteSubscriptionsCreate, handle: (*call).createSubscription},
	}},
	{"subscriptions/{id}", map[string]*route{
		http.MethodGet:    {name: RouteSubscriptionsGet, handle: (*call).getSubscription},
		http.MethodPatch:  {name: RouteSubscriptionsUpdate, handle: (*call).updateSubscription},
		http.MethodDelete: {name: RouteSubscriptionsDelete, handle: (*call).deleteSubscription},
	}},
}

// resolveTenant matches the path segments below /v1.0 against tenantRoutes.
func resolveTenant(method string, segs []string) (*match, *apiError) {
	for _, res := range tenantRoutes {
		pat := strings.Split(res.pattern, "/")
		if len(pat) != len(segs) {
			continue
		}
		m, ok := &match{}, true
		for i, p := range pat {
			switch {
			case p == "{id}" && segs[i] != "":
				m.id = segs[i]
			case !strings.EqualFold(p, segs[i]):
				ok = false
			}
		}
		if ok {
			return m.allow(method, res.ops)
		}
	}
	return nil, segmentError(segs[len(segs)-1])
}

// comms is the tenant's call records and subscriptions.
type comms struct {
	mu      sync.Mutex
	records map[string]map[string]any // by ID, Graph JSON with "sessions"
	subs    map[string]*subscription  // by ID
	client  *http.Client              // reaches notification URLs
}

func newComms(client *http.Client) *comms {
	if client == nil {
		client = http.DefaultClient
	}
	return &comms{records: map[string]map[string]any{}, subs: map[string]*subscription{}, client: client}
}

// requireRole answers 403 unless the caller is an app holding role.
func (c *call) requireRole(role string) bool {
	if c.caller.UserID != "" {
		c.fail(errorf(http.StatusForbidden, "Forbidden", "This API supports only the application permission %s, not delegated access.", role))
		return false
	}
	if !slices.Contains(c.caller.Roles, role) {
		c.fail(errorf(http.StatusForbidden, "Forbidden", "Insufficient privileges to complete the operation: %s is required.", role))
		return false
	}
	return true
}

// AddCallRecord stores a call record given as Graph JSON (a
// microsoft.graph.callRecords.callRecord with its "sessions", each with its
// "segments") and notifies the subscriptions to communications/callRecords,
// as Graph does once a call has ended. It returns the record's ID (the
// "id" given, or a new one) and the errors of notification deliveries.
func (s *Server) AddCallRecord(ctx context.Context, record []byte) (string, error) {
	var rec map[string]any
	if err := json.Unmarshal(record, &rec); err != nil {
		return "", fmt.Errorf("emugraph: call record: %w", err)
	}
	for _, k := range []string{"startDateTime", "endDateTime", "type", "modalities"} {
		if _, ok := rec[k]; !ok {
			return "", fmt.Errorf("emugraph: call record without %s", k)
		}
	}
	sessions, ok := rec["sessions"].([]any)
	if !ok {
		return "", errors.New("emugraph: call record without sessions")
	}
	for _, sess := range sessions {
		if m, ok := sess.(map[string]any); !ok || m["segments"] == nil {
			return "", errors.New("emugraph: every session needs segments")
		}
	}
	id, _ := rec["id"].(string)
	if id == "" {
		id = newUUID()
	}
	rec["id"] = id
	rec["lastModifiedDateTime"] = s.now().UTC().Format(time.RFC3339Nano)
	s.comms.mu.Lock()
	version := int64(1)
	if old := s.comms.records[id]; old != nil {
		version = old["version"].(int64) + 1
	}
	rec["version"] = version
	s.comms.records[id] = rec
	s.comms.mu.Unlock()
	return id, s.notify(ctx, callRecordsResource, "created", "communications/callRecords/"+id, map[string]any{
		"@odata.type": "#microsoft.graph.callrecord",
		"@odata.id":   "communications/callRecords/" + id,
		"id":          id,
	})
}

// record returns a deep copy of a stored record, or nil.
func (s *Server) record(id string) map[string]any {
	s.comms.mu.Lock()
	defer s.comms.mu.Unlock()
	rec := s.comms.records[id]
	if rec == nil {
		return nil
	}
	b, _ := json.Marshal(rec)
	var cp map[string]any
	_ = json.Unmarshal(b, &cp)
	return cp
}

// expandSegments parses the $expand the record routes support:
// sessions, or sessions($expand=segments) (segments for the sessions route).
func (c *call) expandSegments(sessionsRoute bool) (sessions, segments, ok bool) {
	v := strings.ReplaceAll(c.r.URL.Query().Get("$expand"), " ", "")
	switch {
	case v == "":
		return false, false, true
	case sessionsRoute && strings.EqualFold(v, "segments"):
		return true, true, true
	case !sessionsRoute && strings.EqualFold(v, "sessions"):
		return true, false, true
	case !sessionsRoute && strings.EqualFold(v, "sessions($expand=segments)"):
		return true, true, true
	}
	c.fail(errorf(http.StatusBadRequest, "BadRequest", "Parsing OData Select and Expand failed: the $expand '%s' is not supported by this emulated endpoint.", v))
	return false, false, false
}

// getCallRecord serves GET /communications/callRecords/{id}.
func (c *call) getCallRecord() {
	if !c.requireRole(callRecordsRole) || !c.allowQuery("$expand") {
		return
	}
	withSessions, withSegments, ok := c.expandSegments(false)
	if !ok {
		return
	}
	rec := c.s.record(c.id)
	if rec == nil {
		c.fail(errorf(http.StatusNotFound, "NotFound", "Call record '%s' was not found.", c.id))
		return
	}
	sessions, _ := rec["sessions"].([]any)
	delete(rec, "sessions")
	ctx := "communications/callRecords/$entity"
	if withSessions {
		ctx = "communications/callRecords(sessions())/$entity"
		if withSegments {
			ctx = "communications/callRecords(sessions(segments()))/$entity"
		}
		page, next := c.sessionPage(sessions, 0, withSegments)
		rec["sessions"] = page
		rec["sessions@odata.context"] = c.root + "/$metadata#communications/callRecords('" + c.id + "')/sessions"
		if next != "" {
			rec["sessions@odata.nextLink"] = next
		}
	}
	rec["@odata.context"] = c.root + "/$metadata#" + ctx
	c.reply(http.StatusOK, rec)
}

// listCallRecordSessions serves GET .../callRecords/{id}/sessions, the
// target of sessions@odata.nextLink.
func (c *call) listCallRecordSessions() {
	if !c.requireRole(callRecordsRole) || !c.allowQuery("$expand", "$skiptoken") {
		return
	}
	_, withSegments, ok := c.expandSegments(true)
	if !ok {
		return
	}
	skip := 0
	if v := c.r.URL.Query().Get("$skiptoken"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "Invalid $skiptoken."))
			return
		}
		skip = n
	}
	rec := c.s.record(c.id)
	if rec == nil {
		c.fail(errorf(http.StatusNotFound, "NotFound", "Call record '%s' was not found.", c.id))
		return
	}
	sessions, _ := rec["sessions"].([]any)
	page, next := c.sessionPage(sessions, skip, withSegments)
	out := map[string]any{
		"@odata.context": c.root + "/$metadata#communications/callRecords('" + c.id + "')/sessions",
		"value":          page,
	}
	if next != "" {
		out["@odata.nextLink"] = next
	}
	c.reply(http.StatusOK, out)
}

// sessionPage returns sessions[skip:] up to a page, with or without their
// segments, and the link to the next page ("" when this is the last).
func (c *call) sessionPage(sessions []any, skip int, withSegments bool) ([]any, string) {
	page := []any{}
	for i := skip; i < len(sessions) && i < skip+sessionPage; i++ {
		sess, _ := sessions[i].(map[string]any)
		if !withSegments {
			delete(sess, "segments")
		}
		page = append(page, sess)
	}
	if skip+sessionPage >= len(sessions) {
		return page, ""
	}
	q := url.Values{"$skiptoken": {strconv.Itoa(skip + sessionPage)}}
	if withSegments {
		q.Set("$expand", "segments")
	}
	return page, c.root + "/communications/callRecords/" + url.PathEscape(c.id) + "/sessions?" + q.Encode()
}
