// Package emugraph emulates the part of Microsoft Graph v1.0 that Web
// Scheduler uses: users, mailbox settings, calendar events, Teams online
// meetings and JSON batching, each under both /me and /users/{id or UPN}.
//
// Sandbox mode serves it to the product's unmodified msgraph-sdk-go client,
// and tests use it to see how that client copes with Graph, including its
// failures (see Faults). It is deliberately strict: with Options.Spec set,
// every request is validated against the OpenAPI description derived from
// Graph's CSDL before it is served, and every response before it is sent, so
// our client cannot pass by merely agreeing with a fake written by the same
// people. What the description does not cover is checked by hand.
package emugraph

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/webscheduler/webscheduler/backend/sandbox/fault"
)

// Route names, for fault.Injector.Set and Hits. Sub-requests of a $batch are
// counted under their own route as well as the batch under RouteBatch.
const (
	RouteMe             = "me"
	RouteUsersGet       = "users.get"
	RouteUsersList      = "users.list"
	RouteMailbox        = "mailboxSettings"
	RouteEventsList     = "events.list"
	RouteEventsCreate   = "events.create"
	RouteEventsGet      = "events.get"
	RouteEventsUpdate   = "events.update"
	RouteEventsDelete   = "events.delete"
	RouteEventsCancel   = "events.cancel"
	RouteCalendarView   = "calendarView"
	RouteMeetingsCreate = "onlineMeetings.createOrGet"
	RouteMeetingsGet    = "onlineMeetings.get"
	RouteMeetingsUpdate = "onlineMeetings.update"
	RouteMeetingsDelete = "onlineMeetings.delete"
	RouteBatch          = "batch"
)

// apiVersion is the path prefix Handler serves below its mount point.
const apiVersion = "/v1.0"

// maxBody is Graph's limit on a request body (after decompression).
const maxBody = 4 << 20

// User is a directory user with a mailbox.
type User struct {
	ID                string
	UPN               string
	DisplayName       string
	GivenName         string
	Surname           string
	Mail              string
	PreferredLanguage string
	JobTitle          string
	ProxyAddresses    []string
	// TimeZone is a Windows time zone name, reported by mailboxSettings.
	TimeZone string
	// Delegates are the IDs of users allowed to read and write this user's
	// calendar (with the .Shared scopes, as in Exchange).
	Delegates []string
}

// Caller is who a request's token speaks for.
type Caller struct {
	// UserID is the signed-in user's object ID; "" for an app-only token.
	UserID   string
	TenantID string
	// Scopes are delegated permissions (the token's scp claim).
	Scopes []string
	// Roles are application permissions (the token's roles claim).
	Roles []string
}

// Authenticator checks the bearer token of a request. The sandbox wires the
// emulated Entra ID's verification in; tests can use a stub. An error is
// answered 401 InvalidAuthenticationToken.
type Authenticator func(r *http.Request) (Caller, error)

// Options configure a Server.
type Options struct {
	Users []User
	// Authenticate is required: Graph never serves an anonymous request.
	Authenticate Authenticator
	// Spec, when non-nil, validates every request and response (see LoadSpec).
	Spec *openapi3.T
	// Faults injects failures per route; nil makes a fresh Injector.
	Faults *fault.Injector
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// RewriteHTML is how "Exchange" stores an HTML body sent by a client;
	// nil means ExchangeHTML.
	RewriteHTML func(string) string
	// NotificationClient calls subscribers' notification URLs; nil means
	// http.DefaultClient.
	NotificationClient *http.Client
	// MailboxLimits throttles requests per mailbox as Graph does (see
	// throttle.go); the zero value limits nothing.
	MailboxLimits MailboxLimits
}

// Server is an emulated Graph tenant. It is safe for concurrent use.
type Server struct {
	users   []User
	auth    Authenticator
	spec    *validator
	routes  *routeTable
	faults  *fault.Injector
	now     func() time.Time
	rewrite func(string) string

	mu        sync.Mutex
	mailboxes map[string]*mailbox // by user ID
	invalid   []string            // responses that failed the schema
	comms     *comms              // call records and subscriptions (own lock)
	limits    *limiter            // per-mailbox throttling (own lock)
}

// mailbox holds one user's calendar and online meetings.
type mailbox struct {
	events   []*event // in creation order
	meetings []*meeting
}

// New returns a Server for o.
func New(o Options) (*Server, error) {
	if o.Authenticate == nil {
		return nil, errors.New("emugraph: Options.Authenticate is required")
	}
	s := &Server{
		auth:      o.Authenticate,
		routes:    newRouteTable(),
		faults:    o.Faults,
		now:       o.Now,
		rewrite:   o.RewriteHTML,
		mailboxes: map[string]*mailbox{},
		comms:     newComms(o.NotificationClient),
		limits:    newLimiter(o.MailboxLimits),
	}
	if s.faults == nil {
		s.faults = fault.New()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rewrite == nil {
		s.rewrite = ExchangeHTML
	}
	seen := map[string]bool{}
	for _, u := range o.Users {
		if u.ID == "" || u.UPN == "" {
			return nil, fmt.Errorf("emugraph: user %q needs both ID and UPN", u.ID+u.UPN)
		}
		for _, k := range []string{u.ID, u.UPN} {
			if seen[strings.ToLower(k)] {
				return nil, fmt.Errorf("emugraph: duplicate user %q", k)
			}
			seen[strings.ToLower(k)] = true
		}
		u.ProxyAddresses = slices.Clone(u.ProxyAddresses)
		u.Delegates = slices.Clone(u.Delegates)
		s.users = append(s.users, u)
		s.mailboxes[u.ID] = &mailbox{}
	}
	for _, u := range s.users {
		for _, d := range u.Delegates {
			if s.mailboxes[d] == nil {
				return nil, fmt.Errorf("emugraph: delegate %q of %q is not a user ID", d, u.ID)
			}
		}
	}
	if o.Spec != nil {
		v, err := newValidator(o.Spec)
		if err != nil {
			return nil, err
		}
		s.spec = v
	}
	return s, nil
}

// Handler serves Graph's "/v1.0/..." paths: serve it at the root of its own
// listener, or mount it below a prefix with http.StripPrefix, for example
//
//	mux.Handle("/sandbox/graph/", http.StripPrefix("/sandbox/graph", s.Handler()))
//
// and give the SDK "{origin}/sandbox/graph/v1.0" as its base URL. Absolute
// URLs in responses (@odata.nextLink, @odata.context) are rebuilt from the
// request's scheme (X-Forwarded-Proto wins), host and that prefix.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(context.WithValue(r.Context(), rootKey{}, rootURL(r)))
		rec := s.dispatch(r)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	})
}

// Faults returns the injector every route is wrapped with.
func (s *Server) Faults() *fault.Injector { return s.faults }

// ValidationErrors lists the responses this emulator produced that failed
// the schema (they were answered 500 instead). Tests assert there are none.
func (s *Server) ValidationErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.invalid)
}

type rootKey struct{}

// rootURL is the absolute URL of /v1.0 as the client addressed it: the part of
// the original request path that http.StripPrefix removed is kept.
func rootURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p != "" {
		scheme = p
	}
	prefix := ""
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && strings.HasSuffix(u.Path, r.URL.Path) {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	return scheme + "://" + r.Host + prefix + apiVersion
}

// route is one operation the emulator serves.
type route struct {
	name   string
	spec   bool   // covered by the OpenAPI subset; otherwise checked by hand
	access access // what the caller needs on the addressed user
	handle func(*call)
}

// call is one request being served.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	caller Caller
	owner  *User  // the user addressed by /me or /users/{id}
	id     string // event or meeting ID from the path
	body   []byte // the decoded request body
	root   string // absolute URL of /v1.0
}

// match is a request resolved to a route.
type match struct {
	route *route
	me    bool   // addressed as /me
	user  string // {id or UPN} from /users/{user}
	id    string
	path  string // canonical path, for the spec's router (spec routes only)
}

// resource is a path below /me or /users/{user}, with its operations.
type resource struct {
	pattern string // "{id}" matches one segment
	ops     map[string]*route
}

// routeTable is every route, built per Server (a package-level table would
// form an initialization cycle through $batch, which dispatches again).
type routeTable struct {
	me, user, users, batch *route
	resources              []resource
}

func newRouteTable() *routeTable {
	list := &route{name: RouteEventsList, spec: true, access: accessCalendarRead, handle: (*call).listEvents}
	create := &route{name: RouteEventsCreate, spec: true, access: accessCalendarWrite, handle: (*call).createEvent}
	deltaRoute := map[string]*route{http.MethodGet: {name: RouteCalendarDelta, access: accessCalendarRead, handle: (*call).calendarDelta}}
	return &routeTable{
		me:    &route{name: RouteMe, spec: true, access: accessUser, handle: (*call).getUser},
		user:  &route{name: RouteUsersGet, spec: true, access: accessUser, handle: (*call).getUser},
		users: &route{name: RouteUsersList, access: accessUserList, handle: (*call).listUsers},
		batch: &route{name: RouteBatch, handle: (*call).batch},
		resources: []resource{
			{"events", map[string]*route{http.MethodGet: list, http.MethodPost: create}},
			{"calendar/events", map[string]*route{http.MethodGet: list, http.MethodPost: create}},
			{"events/{id}", map[string]*route{
				http.MethodGet:    {name: RouteEventsGet, spec: true, access: accessCalendarRead, handle: (*call).getEvent},
				http.MethodPatch:  {name: RouteEventsUpdate, spec: true, access: accessCalendarWrite, handle: (*call).updateEvent},
				http.MethodDelete: {name: RouteEventsDelete, spec: true, access: accessCalendarWrite, handle: (*call).deleteEvent},
			}},
			{"events/{id}/cancel", map[string]*route{
				http.MethodPost: {name: RouteEventsCancel, access: accessCalendarWrite, handle: (*call).cancelEvent},
			}},
			{"calendarView", map[string]*route{
				http.MethodGet: {name: RouteCalendarView, spec: true, access: accessCalendarRead, handle: (*call).calendarView},
			}},
			{"calendarView/delta", deltaRoute},
			{"calendarView/delta()", deltaRoute}, // the SDK's spelling of the function
			{"mailboxSettings", map[string]*route{
				http.MethodGet: {name: RouteMailbox, access: accessSettings, handle: (*call).mailboxSettings},
			}},
			{"onlineMeetings/createOrGet", map[string]*route{
				http.MethodPost: {name: RouteMeetingsCreate, access: accessMeetingsWrite, handle: (*call).createOrGetMeeting},
			}},
			{"onlineMeetings/{id}", map[string]*route{
				http.MethodGet:    {name: RouteMeetingsGet, spec: true, access: accessMeetingsRead, handle: (*call).getMeeting},
				http.MethodPatch:  {name: RouteMeetingsUpdate, spec: true, access: accessMeetingsWrite, handle: (*call).updateMeeting},
				http.MethodDelete: {name: RouteMeetingsDelete, spec: true, access: accessMeetingsWrite, handle: (*call).deleteMeeting},
			}},
		},
	}
}

// resolve maps a path below the mount point to a route, or to the error Graph
// gives for it. Segments match case-insensitively, as in Graph.
func (rt *routeTable) resolve(method, path string) (*match, *apiError) {
	rest, ok := strings.CutPrefix(path, apiVersion+"/")
	if !ok {
		return nil, errorf(http.StatusBadRequest, "BadRequest", "Invalid version: %s", strings.Trim(path, "/"))
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	m := &match{}
	var prefix string
	switch {
	case len(segs) == 1 && segs[0] == "$batch":
		return m.allow(method, map[string]*route{http.MethodPost: rt.batch})
	case strings.EqualFold(segs[0], "me"):
		m.me, prefix, segs = true, "/me", segs[1:]
	case strings.EqualFold(segs[0], "users") && len(segs) == 1:
		return m.allow(method, map[string]*route{http.MethodGet: rt.users})
	case strings.EqualFold(segs[0], "users") && segs[1] != "":
		m.user, prefix, segs = segs[1], "/users/"+url.PathEscape(segs[1]), segs[2:]
	case strings.EqualFold(segs[0], "communications") || strings.EqualFold(segs[0], "subscriptions"):
		return resolveTenant(method, segs)
	default:
		return nil, segmentError(segs[0])
	}
	if len(segs) == 0 {
		m.path = prefix
		if m.me {
			return m.allow(method, map[string]*route{http.MethodGet: rt.me})
		}
		return m.allow(method, map[string]*route{http.MethodGet: rt.user})
	}
	unmatched := segs[0]
	for _, res := range rt.resources {
		pat := strings.Split(res.pattern, "/")
		if len(pat) != len(segs) {
			continue
		}
		canon, id, ok := []string{prefix}, "", true
		for i, p := range pat {
			switch {
			case p == "{id}" && segs[i] != "":
				id = segs[i]
				canon = append(canon, url.PathEscape(segs[i]))
			case strings.EqualFold(p, segs[i]):
				canon = append(canon, p)
			default:
				ok = false
			}
			if !ok {
				if i > 0 {
					unmatched = segs[i]
				}
				break
			}
		}
		if ok {
			m.id, m.path = id, strings.Join(canon, "/")
			return m.allow(method, res.ops)
		}
	}
	return nil, segmentError(unmatched)
}

func (m *match) allow(method string, ops map[string]*route) (*match, *apiError) {
	r, ok := ops[method]
	if !ok {
		return nil, errorf(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	m.route = r
	return m, nil
}

func segmentError(seg string) *apiError {
	return errorf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", seg)
}

// dispatch serves one request (top-level or inside a $batch) into a recorder,
// so that its response can be validated before anything is sent.
func (s *Server) dispatch(r *http.Request) *recorder {
	rec := newRecorder(r)
	m, aerr := s.routes.resolve(r.Method, r.URL.Path)
	if aerr != nil {
		s.writeError(rec, aerr)
		s.checkErrorBody(r, rec)
		return rec
	}
	var in *requestInput
	serve := func(w http.ResponseWriter, r *http.Request) {
		in = s.serve(w, r, m)
	}
	release, retryAfter, aerr := s.admit(r, m)
	if aerr != nil {
		s.throttled(rec, retryAfter, aerr)
		s.checkErrorBody(r, rec)
		return rec
	}
	defer release()
	s.faults.Wrap(m.route.name, http.HandlerFunc(serve), s.writeFault).ServeHTTP(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if in != nil {
		s.checkResponse(in, rec)
	} else {
		s.checkErrorBody(r, rec)
	}
	return rec
}

// serve authenticates, reads and validates the request, checks the caller's
// permission and runs the route. It returns the spec's view of the request
// when the route is in the spec, for validating the response.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, m *match) *requestInput {
	c := &call{s: s, w: w, r: r, id: m.id}
	c.root, _ = r.Context().Value(rootKey{}).(string)
	caller, err := s.auth(r)
	if err != nil {
		c.fail(errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. %v", err))
		return nil
	}
	c.caller = caller
	var aerr *apiError
	if c.body, aerr = readBody(r); aerr != nil {
		c.fail(aerr)
		return nil
	}
	var in *requestInput
	if m.route.spec && s.spec != nil {
		if in, aerr = s.spec.checkRequest(r, m.path, c.body); aerr != nil {
			if aerr.status >= 500 {
				s.recordInvalid(aerr.message) // our route table and the spec disagree
			}
			c.fail(aerr)
			return in
		}
	}
	if aerr = c.authorize(m); aerr != nil {
		c.fail(aerr)
		return in
	}
	m.route.handle(c)
	return in
}

// readBody returns the request body, gunzipped when the client compressed it
// (msgraph-sdk-go compresses every body), and refuses bodies over Graph's
// limit before and after decompression.
func readBody(r *http.Request) ([]byte, *apiError) {
	if r.Body == nil {
		return nil, nil
	}
	tooLarge := errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body exceeds the maximum size of %d bytes.", maxBody)
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		return nil, errorf(http.StatusBadRequest, "RequestBodyRead", "The request body could not be read: %v", err)
	case len(raw) > maxBody:
		return nil, tooLarge
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); {
	case enc == "" || enc == "identity" || len(raw) == 0:
		return raw, nil
	case enc != "gzip":
		return nil, errorf(http.StatusUnsupportedMediaType, "BadRequest", "Content-Encoding %q is not supported.", enc)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(zr, maxBody+1))
	}
	switch {
	case err != nil:
		return nil, errorf(http.StatusBadRequest, "RequestBodyRead", "The request body is not valid gzip: %v", err)
	case len(b) > maxBody:
		return nil, tooLarge
	}
	return b, nil
}

// decode parses the JSON request body into v, answering Graph's error if it
// is not JSON of the right shape.
func (c *call) decode(v any) bool {
	if len(bytes.TrimSpace(c.body)) == 0 {
		c.fail(errorf(http.StatusBadRequest, "BadRequest", "Empty Payload. JSON content expected."))
		return false
	}
	if mt, _, err := mime.ParseMediaType(c.r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		c.fail(errorf(http.StatusBadRequest, "BadRequest", "Unsupported content type '%s': JSON content expected.", c.r.Header.Get("Content-Type")))
		return false
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		c.fail(errorf(http.StatusBadRequest, "RequestBodyRead", "Unable to read JSON request payload: %v", err))
		return false
	}
	return true
}

// apiError is an error answered in Graph's error shape.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func (c *call) fail(e *apiError) { c.s.writeError(c.w, e) }

// writeError answers e as Graph does, with the request's IDs in innerError.
func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	body := map[string]any{"error": map[string]any{
		"code":    e.code,
		"message": e.message,
		"innerError": map[string]any{
			"date":              s.now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        w.Header().Get("request-id"),
			"client-request-id": w.Header().Get("client-request-id"),
		},
	}}
	writeJSON(w, e.status, body, "application/json")
}

// writeFault answers an injected status with the error Graph gives for it.
func (s *Server) writeFault(w http.ResponseWriter, status int) {
	code, msg := "UnknownError", http.StatusText(status)
	switch status {
	case http.StatusTooManyRequests:
		code, msg = "TooManyRequests", "Too many requests from the application or user. Please retry after the time in the Retry-After header."
	case http.StatusServiceUnavailable:
		code, msg = "ServiceNotAvailable", "The service is temporarily unavailable. Please retry after the time in the Retry-After header."
	case http.StatusInternalServerError:
		code, msg = "generalException", "General exception while processing."
	case http.StatusGatewayTimeout:
		code = "GatewayTimeout"
	case http.StatusBadRequest:
		code = "BadRequest"
	case http.StatusUnauthorized:
		code = "InvalidAuthenticationToken"
	case http.StatusForbidden:
		code = "ErrorAccessDenied"
	case http.StatusNotFound:
		code = "ErrorItemNotFound"
	}
	s.writeError(w, &apiError{status: status, code: code, message: msg})
}

// odataJSON is the content type Graph gives its OData responses.
const odataJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// reply answers v as an OData entity or collection.
func (c *call) reply(status int, v any) {
	c.w.Header().Set("OData-Version", "4.0")
	writeJSON(c.w, status, v, odataJSON)
}

func writeJSON(w http.ResponseWriter, status int, v any, contentType string) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("emugraph: marshal response: %v", err)) // our own values always marshal
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// recorder buffers a response so it can be validated (and embedded in a
// $batch response) before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// newRecorder starts a response to r with Graph's request IDs: a new
// request-id, and the client's client-request-id echoed (or made up).
func newRecorder(r *http.Request) *recorder {
	rec := &recorder{header: http.Header{}}
	clientID := r.Header.Get("client-request-id")
	if clientID == "" {
		clientID = newUUID()
	}
	rec.header.Set("request-id", newUUID())
	rec.header.Set("client-request-id", clientID)
	return rec
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (s *Server) recordInvalid(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalid = append(s.invalid, msg)
}

// replaceWithInternalError turns a response that failed validation into the
// 500 a test will notice.
func (s *Server) replaceWithInternalError(rec *recorder) {
	h := http.Header{}
	h.Set("request-id", rec.header.Get("request-id"))
	h.Set("client-request-id", rec.header.Get("client-request-id"))
	*rec = recorder{header: h}
	s.writeFault(rec, http.StatusInternalServerError)
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// lookupUser finds a user by ID or UPN, case-insensitively as Graph does.
func (s *Server) lookupUser(key string) *User {
	for i := range s.users {
		u := &s.users[i]
		if strings.EqualFold(u.ID, key) || strings.EqualFold(u.UPN, key) {
			return u
		}
	}
	return nil
}

// allowQuery refuses OData system query options the route does not support,
// so that the client never believes an ignored option took effect.
func (c *call) allowQuery(names ...string) bool {
	for k := range c.r.URL.Query() {
		if strings.HasPrefix(k, "$") && !slices.Contains(names, k) {
			c.fail(errorf(http.StatusBadRequest, "BadRequest", "Query option '%s' is not supported by this emulated endpoint.", k))
			return false
		}
	}
	return true
}
