package qoe

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// callRecordsResource is what the subscription watches. Graph allows it a
// lifetime of at most 4230 minutes and only the "created" change type.
const (
	callRecordsResource = "communications/callRecords"
	maxTeamsLifetime    = 4230 * time.Minute
)

// TeamsOptions configure the Teams call-record collector.
type TeamsOptions struct {
	// Graph is required (NewGraphClient).
	Graph GraphClient
	// NotificationURL is required: the public https URL at which Graph
	// reaches TeamsPath below the handler's mount point.
	NotificationURL string
	// ClientState is the secret Graph echoes in every notification; ""
	// makes a random one per process.
	ClientState string
	// Lifetime of the subscription before renewal; default and maximum
	// 4230 minutes. It is renewed when a third of it is left.
	Lifetime time.Duration
	// RetryDelay is the first back-off after a failure (default 10 s);
	// it doubles up to 5 minutes.
	RetryDelay time.Duration
}

// teams keeps the subscription alive and turns notifications into stored
// call records.
type teams struct {
	s     *Service
	o     TeamsOptions
	queue chan string   // call record IDs to fetch
	kick  chan struct{} // a lifecycle event asks for renewal now

	mu  sync.Mutex
	sub *Subscription
}

func newTeams(s *Service, o TeamsOptions) (*teams, error) {
	if o.Graph == nil || o.NotificationURL == "" {
		return nil, errors.New("qoe: Teams needs a Graph client and a notification URL")
	}
	if !strings.HasPrefix(o.NotificationURL, "https://") {
		return nil, errors.New("qoe: Graph only notifies https URLs")
	}
	if o.ClientState == "" {
		o.ClientState = randomToken(16)
	}
	if len(o.ClientState) > 128 {
		return nil, errors.New("qoe: Graph takes a clientState of at most 128 characters")
	}
	if o.Lifetime <= 0 || o.Lifetime > maxTeamsLifetime {
		o.Lifetime = maxTeamsLifetime
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 10 * time.Second
	}
	return &teams{s: s, o: o, queue: make(chan string, 1024), kick: make(chan struct{}, 1)}, nil
}

// run keeps the subscription alive and fetches notified call records, until
// ctx ends; then it deletes the subscription.
func (t *teams) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.fetchLoop(ctx)
		}()
	}
	t.subscriptionLoop(ctx)
	wg.Wait()
	if sub := t.current(); sub != nil {
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := t.o.Graph.DeleteSubscription(dctx, sub.ID); err != nil && !isNotFound(err) {
			t.s.log.Warn("qoe teams: subscription not deleted", "subscription", sub.ID, "err", err)
		}
	}
}

func (t *teams) current() *Subscription {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sub
}

func (t *teams) set(sub *Subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sub = sub
}

// subscriptionLoop creates the subscription (Graph first calls the
// notification URL to validate it, so this retries until the service is
// reachable) and renews it when a third of its lifetime is left.
func (t *teams) subscriptionLoop(ctx context.Context) {
	// Give the service a moment to listen: Graph validates the URL at once.
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Second):
	}
	delay := t.o.RetryDelay
	for {
		var wait time.Duration
		if err := t.ensure(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			t.s.log.Warn("qoe teams: subscription failed", "err", err, "retry_in", delay)
			wait, delay = delay, min(2*delay, 5*time.Minute)
		} else {
			delay = t.o.RetryDelay
			wait = time.Until(t.current().ExpirationDateTime) - t.o.Lifetime/3
		}
		timer := time.NewTimer(max(wait, time.Second))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-t.kick:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// ensure creates the subscription, or renews it when it is due.
func (t *teams) ensure(ctx context.Context) error {
	sub := t.current()
	expires := t.s.now().Add(t.o.Lifetime).UTC()
	if sub != nil {
		if time.Until(sub.ExpirationDateTime) > t.o.Lifetime/3 {
			return nil
		}
		renewed, err := t.o.Graph.RenewSubscription(ctx, sub.ID, expires)
		if err == nil {
			t.set(&renewed)
			t.s.log.Info("qoe teams: subscription renewed", "subscription", renewed.ID, "expires", renewed.ExpirationDateTime)
			return nil
		}
		if !isNotFound(err) {
			return fmt.Errorf("renew: %w", err)
		}
		t.set(nil) // Graph dropped it: make a new one
	}
	created, err := t.o.Graph.CreateSubscription(ctx, Subscription{
		ChangeType:               "created",
		NotificationURL:          t.o.NotificationURL,
		LifecycleNotificationURL: t.o.NotificationURL,
		Resource:                 callRecordsResource,
		ExpirationDateTime:       expires,
		ClientState:              t.o.ClientState,
	})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	t.set(&created)
	t.s.log.Info("qoe teams: subscribed", "subscription", created.ID, "expires", created.ExpirationDateTime)
	return nil
}

// notification is one item of a Graph change or lifecycle notification.
type notification struct {
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType"`
	Resource       string `json:"resource"`
	LifecycleEvent string `json:"lifecycleEvent"`
	ResourceData   struct {
		ID string `json:"id"`
	} `json:"resourceData"`
}

var callRecordPath = regexp.MustCompile(`(?i)^/?communications/callRecords(?:/|\(')([^/'()]+)'?\)?$`)

// serveTeams answers Graph: the validation handshake (echo validationToken
// as text/plain, within Graph's 10 s), then change and lifecycle
// notifications, acknowledged with 202 and processed in the background.
func (s *Service) serveTeams(w http.ResponseWriter, r *http.Request) {
	t := s.teams
	if t == nil {
		notFound(w, r)
		return
	}
	if token, ok := r.URL.Query()["validationToken"]; ok {
		if len(token) != 1 || len(token[0]) > 1024 {
			writeError(w, s.log, scheduler.Errorf(scheduler.ECodeInvalid, "Bad validation token."))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, token[0])
		return
	}
	var batch struct {
		Value []notification `json:"value"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &batch)
	}
	if err != nil {
		writeError(w, s.log, scheduler.Wrap(scheduler.ECodeInvalid, "The notification is not JSON.", err))
		return
	}
	for _, n := range batch.Value {
		if subtle.ConstantTimeCompare([]byte(n.ClientState), []byte(t.o.ClientState)) != 1 {
			s.log.Warn("qoe teams: notification with a wrong clientState dropped", "subscription", n.SubscriptionID)
			continue
		}
		if n.LifecycleEvent != "" {
			t.lifecycle(n)
			continue
		}
		id := n.ResourceData.ID
		if m := callRecordPath.FindStringSubmatch(n.Resource); id == "" && m != nil {
			id = m[1]
		}
		if id == "" {
			continue
		}
		select {
		case t.queue <- id:
		default:
			// Graph retries a notification answered 5xx, later.
			writeError(w, s.log, &scheduler.Error{Code: scheduler.ECodeUnavailable, Message: "Too many call records waiting.", RetryAfter: 60})
			return
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// lifecycle handles Graph's lifecycle events: renew now when asked to
// reauthorize, subscribe again when the subscription was removed.
func (t *teams) lifecycle(n notification) {
	t.s.log.Info("qoe teams: lifecycle event", "event", n.LifecycleEvent, "subscription", n.SubscriptionID)
	switch n.LifecycleEvent {
	case "subscriptionRemoved":
		t.set(nil)
	case "reauthorizationRequired":
		if sub := t.current(); sub != nil {
			cp := *sub
			cp.ExpirationDateTime = time.Time{} // due now
			t.set(&cp)
		}
	default: // "missed": nothing to resynchronise from
		return
	}
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// fetchLoop fetches notified call records and stores them. A record can
// lag its notification, so a failed fetch is retried a few times.
func (t *teams) fetchLoop(ctx context.Context) {
	for {
		var id string
		select {
		case <-ctx.Done():
			return
		case id = <-t.queue:
		}
		for attempt := 1; ; attempt++ {
			err := t.fetch(ctx, id)
			if err == nil || ctx.Err() != nil {
				break
			}
			if attempt == 4 {
				t.s.log.Error("qoe teams: call record not stored", "call_record", id, "err", err)
				break
			}
			wait := t.o.RetryDelay * time.Duration(attempt)
			var ge *GraphError
			if errors.As(err, &ge) && ge.RetryAfter > wait {
				wait = ge.RetryAfter // throttled: Graph says when
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
	}
}

func (t *teams) fetch(ctx context.Context, id string) error {
	rec, err := t.o.Graph.GetCallRecord(ctx, id)
	if err != nil {
		return err
	}
	_, err = t.s.store(ctx, t.s.fromCallRecord(rec), true)
	return err
}

// fromCallRecord maps a call record to a call and one stream per media
// stream of every segment, each seen from the endpoint that received it.
func (s *Service) fromCallRecord(rec *CallRecord) *call {
	c := &call{Source: SourceTeams, ExternalID: rec.ID, Start: rec.StartDateTime, End: rec.EndDateTime, Kind: rec.Type}
	c.Organizer, _ = identityOf(rec.Organizer)
	if c.End.Before(c.Start) {
		c.End = c.Start
	}
	seen := map[string]int{}
	for _, sess := range rec.Sessions {
		for _, seg := range sess.Segments {
			caller, callee := seg.Caller, seg.Callee
			if caller == nil {
				caller = sess.Caller
			}
			if callee == nil {
				callee = sess.Callee
			}
			for _, m := range seg.Media {
				for _, raw := range m.Streams {
					st := s.teamsStream(seg, m, raw, caller, callee)
					if n := seen[st.Key]; n > 0 {
						st.Key = fmt.Sprintf("%s#%d", st.Key, n)
					}
					seen[st.Key]++
					c.Streams = append(c.Streams, st)
				}
			}
		}
	}
	return c
}

// mediaStream is the part of callRecords.mediaStream classification reads.
type mediaStream struct {
	StreamID                       string     `json:"streamId"`
	StreamDirection                string     `json:"streamDirection"`
	AudioCodec                     string     `json:"audioCodec"`
	VideoCodec                     string     `json:"videoCodec"`
	StartDateTime                  *time.Time `json:"startDateTime"`
	EndDateTime                    *time.Time `json:"endDateTime"`
	AveragePacketLossRate          *float64   `json:"averagePacketLossRate"`
	AverageJitter                  string     `json:"averageJitter"`
	AverageAudioNetworkJitter      string     `json:"averageAudioNetworkJitter"`
	AverageRoundTripTime           string     `json:"averageRoundTripTime"`
	AverageAudioDegradation        *float64   `json:"averageAudioDegradation"`
	AverageRatioOfConcealedSamples *float64   `json:"averageRatioOfConcealedSamples"`
}

func (s *Service) teamsStream(seg CallSegment, m CallMedia, raw json.RawMessage, caller, callee *CallEndpoint) stream {
	var ms mediaStream
	_ = json.Unmarshal(raw, &ms) // shape errors leave fields empty; raw is kept
	st := stream{
		Key:       seg.ID + "/" + m.Label + "/" + ms.StreamID + "/" + ms.StreamDirection,
		Start:     seg.StartDateTime,
		End:       seg.EndDateTime,
		Modality:  modality(m.Label, ms),
		Direction: ms.StreamDirection,
	}
	if ms.StartDateTime != nil {
		st.Start = *ms.StartDateTime
	}
	if ms.EndDateTime != nil {
		st.End = *ms.EndDateTime
	}
	if st.End.Before(st.Start) {
		st.End = st.Start
	}
	// callerToCallee is measured where the callee receives it.
	rx, tx, rxDev, rxNet, txNet := callee, caller, m.CalleeDevice, m.CalleeNetwork, m.CallerNetwork
	if ms.StreamDirection == "calleeToCaller" {
		rx, tx, rxDev, rxNet, txNet = caller, callee, m.CallerDevice, m.CallerNetwork, m.CalleeNetwork
	}
	if rx != nil {
		st.UserID, st.UserName = identityOf(rx.Identity)
		st.Device = deviceOf(rx, rxDev)
	}
	if tx != nil {
		st.PeerUserID, _ = identityOf(tx.Identity)
	}
	if rxNet != nil {
		if ip, err := netip.ParseAddr(rxNet.IPAddress); err == nil {
			st.IP, st.Subnet = s.endpoint(ip)
			st.Port = rxNet.Port
		}
	}
	if txNet != nil {
		if ip, err := netip.ParseAddr(txNet.IPAddress); err == nil {
			st.PeerIP = s.peer(ip)
			st.PeerPort = txNet.Port
		}
	}
	st.Codec = ms.AudioCodec
	if st.Codec == "" || st.Codec == "unknown" {
		st.Codec = ms.VideoCodec
	}
	if ms.AveragePacketLossRate != nil {
		p := *ms.AveragePacketLossRate * 100 // Graph gives a ratio
		st.PacketLoss = &p
	}
	jitter := ms.AverageJitter
	if jitter == "" {
		jitter = ms.AverageAudioNetworkJitter
	}
	st.JitterMS = durationMS(jitter)
	st.RoundTripMS = durationMS(ms.AverageRoundTripTime)
	st.Degradation, st.ConcealedRatio = ms.AverageAudioDegradation, ms.AverageRatioOfConcealedSamples
	if st.Modality == "audio" {
		st.Poor, st.PoorReasons = s.thresholds.classify(measures{
			packetLoss: st.PacketLoss, jitter: st.JitterMS, roundTrip: st.RoundTripMS,
			degradation: st.Degradation, concealed: st.ConcealedRatio,
		})
	}
	st.Metrics, _ = json.Marshal(map[string]any{"segment": seg.ID, "label": m.Label, "stream": raw})
	return st
}

func modality(label string, ms mediaStream) string {
	l := strings.ToLower(label)
	switch {
	case strings.Contains(l, "applicationsharing") || strings.Contains(l, "screen"):
		return "screenshare"
	case strings.Contains(l, "audio"):
		return "audio"
	case strings.Contains(l, "video"):
		return "video"
	case ms.AudioCodec != "" && ms.AudioCodec != "unknown":
		return "audio"
	case ms.VideoCodec != "" && ms.VideoCodec != "unknown":
		return "video"
	}
	return "data"
}

// identityOf picks the most specific identity of a set: its UPN when Graph
// gives one, else its ID.
func identityOf(set IdentitySet) (id, name string) {
	for _, kind := range []string{"user", "guest", "acsUser", "spoolUser", "phone", "applicationInstance", "application", "device"} {
		if i := set[kind]; i != nil && (i.ID != "" || i.UserPrincipalName != "") {
			id = i.ID
			if i.UserPrincipalName != "" {
				id = strings.ToLower(i.UserPrincipalName)
			}
			return id, i.DisplayName
		}
	}
	return "", ""
}

// deviceOf names the receiving device: its microphone/speaker when known,
// else the client product and platform.
func deviceOf(e *CallEndpoint, d *DeviceInfo) string {
	if d != nil && d.CaptureDeviceName != "" {
		return d.CaptureDeviceName
	}
	if d != nil && d.RenderDeviceName != "" {
		return d.RenderDeviceName
	}
	if ua := e.UserAgent; ua != nil {
		if p := strings.TrimSpace(ua.ProductFamily + " " + ua.Platform); p != "" {
			return p
		}
		return ua.HeaderValue
	}
	return ""
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// durationMS reads an ISO 8601 duration (Edm.Duration, "PT0.015S") as ms.
func durationMS(s string) *float64 {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return nil
	}
	var ms float64
	for i, unit := range []float64{86_400_000, 3_600_000, 60_000, 1000} {
		if m[i+1] != "" {
			var v float64
			fmt.Sscan(m[i+1], &v)
			ms += v * unit
		}
	}
	return &ms
}
