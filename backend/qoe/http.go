package qoe

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/webscheduler/webscheduler/backend/qoe/rtcpxr"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Paths below the handler's mount point that authenticate themselves: the
// service must route them around its admin-role check (every other path
// assumes an authenticated admin).
const (
	IngestPath = "/ingest"              // POST, bearer ingestion key
	TeamsPath  = "/teams/notifications" // POST, Graph change notifications
)

// SelfAuthenticated reports whether a path below the mount point carries
// its own authentication (IngestPath, TeamsPath).
func SelfAuthenticated(path string) bool {
	return path == IngestPath || path == TeamsPath
}

// Handler serves, below its mount point (strip the prefix first):
//
//	GET  /reports/daily            calls and poor-call rate per day
//	GET  /reports/subnets          worst subnets
//	GET  /reports/devices          worst devices
//	GET  /reports/users/{user}/calls  one user's calls with stream detail
//	POST /ingest                   an RFC 6035 report (bearer ingestion key)
//	POST /teams/notifications      Graph change notifications (Teams)
//
// Reports take from, to (RFC 3339 or YYYY-MM-DD), and format=json (default),
// csv or svg. A nil *Service (QoE off) answers 404 to everything.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	if s == nil {
		mux.HandleFunc("/", notFound)
		return mux
	}
	mux.HandleFunc("GET /reports/daily", s.report(s.dailyReport))
	mux.HandleFunc("GET /reports/subnets", s.report(s.subnetReport))
	mux.HandleFunc("GET /reports/devices", s.report(s.deviceReport))
	mux.HandleFunc("GET /reports/users/{user}/calls", s.report(s.userReport))
	mux.HandleFunc("POST "+IngestPath, s.serveIngest)
	mux.HandleFunc("POST "+TeamsPath, s.serveTeams)
	mux.HandleFunc("/", notFound)
	return mux
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, nil, scheduler.Errorf(scheduler.ECodeNotFound, "No such route."))
}

// statusOf maps the error codes this package returns to HTTP statuses, as
// httpapi's table does for the rest of the service.
var statusOf = map[string]int{
	scheduler.ECodeInvalid:          http.StatusBadRequest,
	scheduler.ECodeUnauthenticated:  http.StatusUnauthorized,
	scheduler.ECodeForbidden:        http.StatusForbidden,
	scheduler.ECodeNotFound:         http.StatusNotFound,
	scheduler.ECodeTooLarge:         http.StatusRequestEntityTooLarge,
	scheduler.ECodeRateLimited:      http.StatusTooManyRequests,
	scheduler.ECodeUnavailable:      http.StatusServiceUnavailable,
	scheduler.ECodeStoreUnavailable: http.StatusServiceUnavailable,
	scheduler.ECodeInternal:         http.StatusInternalServerError,
}

// writeError answers err in the DESIGN §4 envelope; causes go to the log.
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	code := scheduler.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 && log != nil {
		log.Error("qoe request failed", "code", code, "cause", err.Error())
	}
	var se *scheduler.Error
	if errors.As(err, &se) && se.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(se.RetryAfter))
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	body.Error.Code, body.Error.Message = code, scheduler.ErrorMessage(err)
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// serveIngest stores one RFC 6035 report sent over HTTP.
func (s *Service) serveIngest(w http.ResponseWriter, r *http.Request) {
	if s.opts.IngestKey == "" {
		notFound(w, r)
		return
	}
	if !s.ingestKeyOK(r.Header.Get("Authorization")) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="qoe-ingest"`)
		writeError(w, s.log, scheduler.Errorf(scheduler.ECodeUnauthenticated, "A valid ingestion key is required."))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != rtcpxr.MediaType {
		writeError(w, s.log, scheduler.Errorf(scheduler.ECodeInvalid, "The body must be %s.", rtcpxr.MediaType))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rtcpxr.MaxSize))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, s.log, scheduler.Errorf(scheduler.ECodeTooLarge, "The report is larger than %d KB.", rtcpxr.MaxSize>>10))
			return
		}
		writeError(w, s.log, scheduler.Wrap(scheduler.ECodeInvalid, "The body could not be read.", err))
		return
	}
	rep, err := s.ingest(r.Context(), body, reporter{userAgent: r.Header.Get("User-Agent")})
	if err != nil {
		writeError(w, s.log, err)
		return
	}
	streams := 1
	if rep.Remote != nil {
		streams = 2
	}
	writeJSON(w, http.StatusOK, map[string]any{"callId": rep.CallID, "streams": streams})
}

// ingestKeyOK compares the bearer key in constant time (hashing both sides
// first so that not even the key's length leaks).
func (s *Service) ingestKeyOK(authorization string) bool {
	scheme, key, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(key)))
	want := sha256.Sum256([]byte(s.opts.IngestKey))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
