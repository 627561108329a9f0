package qoe

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/webscheduler/webscheduler/backend/qoe/rtcpxr"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Publication lifetimes (RFC 3903 §6 step 5). A vq-rtcpxr publication is
// a one-off report, so the state kept is only the entity-tag that lets a
// reporter refresh or remove it.
const (
	minExpires     = 60
	defaultExpires = 3600
	maxExpires     = 3600
	maxETags       = 100_000
)

// ListenSIP receives PUBLISH requests on addr, UDP and TCP on the same
// port, until ctx ends or the Service is closed (then it returns nil). On a
// nil *Service it returns ErrDisabled at once.
func (s *Service) ListenSIP(ctx context.Context, addr string) error {
	if s == nil {
		return ErrDisabled
	}
	udp, err := net.ListenPacket("udp", addr)
	if err != nil {
		return fmt.Errorf("qoe: sip udp: %w", err)
	}
	tcp, err := net.Listen("tcp", udp.LocalAddr().String())
	if err != nil {
		udp.Close()
		return fmt.Errorf("qoe: sip tcp: %w", err)
	}
	return s.ServeSIP(ctx, udp, tcp)
}

// ServeSIP serves PUBLISH on listeners the caller opened (so that a port
// that cannot be bound fails the start, not a goroutine), until ctx ends or
// the Service is closed; it closes them. On a nil *Service it returns
// ErrDisabled.
func (s *Service) ServeSIP(ctx context.Context, udp net.PacketConn, tcp net.Listener) error {
	closeAll := func() { udp.Close(); tcp.Close() }
	if s == nil {
		closeAll()
		return ErrDisabled
	}
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("webscheduler-qoe"))
	if err != nil {
		closeAll()
		return fmt.Errorf("qoe: sip: %w", err)
	}
	defer ua.Close()
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(s.log.With("component", "qoe-sip")))
	if err != nil {
		closeAll()
		return fmt.Errorf("qoe: sip: %w", err)
	}
	srv.OnPublish(s.onPublish)
	s.log.Info("qoe sip listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String())
	errc := make(chan error, 2)
	go func() { errc <- srv.ServeUDP(udp) }()
	go func() { errc <- srv.ServeTCP(tcp) }()
	select {
	case <-ctx.Done():
	case <-s.ctx.Done():
	case err = <-errc:
	}
	closeAll()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("qoe: sip: %w", err)
	}
	return nil
}

// onPublish is the event state compositor of RFC 3903 §6 for vq-rtcpxr.
func (s *Service) onPublish(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string, headers ...sip.Header) {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, h := range headers {
			res.AppendHeader(h)
		}
		if err := tx.Respond(res); err != nil {
			s.log.Debug("qoe sip respond failed", "err", err)
		}
	}
	if !s.sipAllowed(req.Source()) {
		respond(sip.StatusForbidden, "Forbidden")
		return
	}
	// Step 2: the event package must be one we compose.
	event := headerValue(req, "Event", "o")
	if pkg, _, _ := strings.Cut(event, ";"); !strings.EqualFold(strings.TrimSpace(pkg), rtcpxr.EventPackage) {
		respond(489, "Bad Event", sip.NewHeader("Allow-Events", rtcpxr.EventPackage))
		return
	}
	body := req.Body()
	if len(body) > 0 {
		ct := ""
		if h := req.ContentType(); h != nil {
			ct = h.Value()
		}
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != rtcpxr.MediaType {
			respond(sip.StatusUnsupportedMediaType, "Unsupported Media Type", sip.NewHeader("Accept", rtcpxr.MediaType))
			return
		}
	}
	// Step 3: a refresh, modification or removal names its entity-tag.
	ifMatch := strings.TrimSpace(headerValue(req, "SIP-If-Match", ""))
	if ifMatch == "" && len(body) == 0 {
		respond(sip.StatusBadRequest, "Missing Body")
		return
	}
	if ifMatch != "" && !s.etags.valid(ifMatch, s.now()) {
		respond(412, "Conditional Request Failed")
		return
	}
	// Step 5: the lifetime asked for, within our bounds.
	expires := defaultExpires
	if v := strings.TrimSpace(headerValue(req, "Expires", "")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			respond(sip.StatusBadRequest, "Bad Expires")
			return
		}
		expires = min(n, maxExpires)
	}
	if expires > 0 && expires < minExpires {
		respond(423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(minExpires)))
		return
	}
	// Step 4: a body is a report, stored whole or refused.
	if len(body) > 0 {
		ctx, cancel := context.WithTimeout(s.ctx, 10*time.Second)
		_, err := s.ingest(ctx, body, reporter{userAgent: headerValue(req, "User-Agent", ""), from: fromURI(req)})
		cancel()
		if err != nil {
			s.respondError(respond, err)
			return
		}
	}
	if ifMatch != "" {
		s.etags.remove(ifMatch)
	}
	etag := randomToken(8)
	if expires > 0 {
		s.etags.add(etag, s.now(), time.Duration(expires)*time.Second)
	}
	respond(sip.StatusOK, "OK", sip.NewHeader("SIP-ETag", etag), sip.NewHeader("Expires", strconv.Itoa(expires)))
}

// respondError answers an ingestion failure; a malformed report's reason
// goes into a Warning header (RFC 3261 §20.43) so the reporter's log shows it.
func (s *Service) respondError(respond func(int, string, ...sip.Header), err error) {
	switch scheduler.ErrorCode(err) {
	case scheduler.ECodeInvalid:
		msg := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(scheduler.ErrorMessage(err))
		respond(sip.StatusBadRequest, "Malformed Report", sip.NewHeader("Warning", `399 webscheduler "`+msg+`"`))
	case scheduler.ECodeStoreUnavailable:
		s.log.Warn("qoe sip report not stored", "err", err)
		respond(503, "Service Unavailable", sip.NewHeader("Retry-After", "30"))
	default:
		s.log.Error("qoe sip report failed", "err", err)
		respond(500, "Server Internal Error")
	}
}

func (s *Service) sipAllowed(source string) bool {
	if len(s.opts.SIPAllow) == 0 {
		return true
	}
	ap, err := netip.ParseAddrPort(source)
	if err != nil {
		return false
	}
	for _, p := range s.opts.SIPAllow {
		if p.Contains(ap.Addr().Unmap()) {
			return true
		}
	}
	return false
}

// headerValue reads a header by its name or compact form.
func headerValue(req *sip.Request, name, compact string) string {
	if h := req.GetHeader(name); h != nil {
		return h.Value()
	}
	if compact != "" {
		if h := req.GetHeader(compact); h != nil {
			return h.Value()
		}
	}
	return ""
}

func fromURI(req *sip.Request) string {
	if f := req.From(); f != nil {
		return "<" + f.Address.String() + ">"
	}
	return ""
}

// etagStore remembers the entity-tags handed out and until when.
type etagStore struct {
	mu   sync.Mutex
	tags map[string]time.Time
}

func newETagStore() *etagStore { return &etagStore{tags: map[string]time.Time{}} }

func (e *etagStore) valid(tag string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	exp, ok := e.tags[tag]
	return ok && now.Before(exp)
}

// add remembers tag for ttl. When full it forgets expired tags, then any,
// so that a flood of publications cannot grow it without bound.
func (e *etagStore) add(tag string, now time.Time, ttl time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.tags) >= maxETags {
		for t, exp := range e.tags {
			if !now.Before(exp) || len(e.tags) >= maxETags {
				delete(e.tags, t)
			}
		}
	}
	e.tags[tag] = now.Add(ttl)
}

func (e *etagStore) remove(tag string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.tags, tag)
}
