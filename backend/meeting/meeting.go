// Package meeting is the core of the product: it allocates a conference,
// renders its join information and writes it into the calendar item,
// idempotently and without ever leaving two join blocks or a half-written
// item behind.
package meeting

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// Lifetimes of what the service stores (DESIGN §5).
const (
	// pendingTTL bounds a conference whose calendar write has not succeeded
	// yet: if nobody retries, Redis expiry is the cleanup pass.
	pendingTTL = time.Hour
	// retention keeps a conference after its meeting ended, for late joiners
	// and the refresh jobs.
	retention      = 30 * 24 * time.Hour
	idempotencyTTL = 24 * time.Hour
	// claimLease bounds a claim whose request never allocated a meeting
	// (the store went away meanwhile), so a retry is not refused for a day.
	claimLease = 2 * time.Minute
	// pendingMark prefixes the meeting ID an idempotency key names while
	// its first request is still writing the calendar.
	pendingMark = "pending:"
	// maxAllocations bounds retries on a taken conference ID.
	maxAllocations = 20
	// changeKeyRetries bounds re-read-and-retry on concurrent edits.
	changeKeyRetries = 3
)

// Service runs the meeting use cases.
type Service struct {
	Conferences scheduler.ConferenceStore
	Idempotency scheduler.IdempotencyStore
	Provider    scheduler.Provider
	Calendar    scheduler.Calendar
	Templates   Renderer
	// Users finds the owner of a calendar a delegate schedules in; nil
	// turns scheduling on someone's behalf off.
	Users Users
	Box   *secret.Box
	Now   func() time.Time
	// IdempotencyWait is how long a duplicate request waits for the first.
	IdempotencyWait time.Duration
}

// Request is what a person asks for (DESIGN §4, POST /api/v1/meetings).
type Request struct {
	Subject     string                   `json:"subject"`
	Start       time.Time                `json:"start"`
	End         time.Time                `json:"end"`
	TimeZone    string                   `json:"timeZone"`
	Attendees   []string                 `json:"attendees"`
	Options     scheduler.MeetingOptions `json:"options"`
	EventID     string                   `json:"eventId,omitempty"`
	CreateEvent bool                     `json:"createEvent,omitempty"`
	Locale      string                   `json:"locale,omitempty"`
	// Mailbox is "" for the caller's own calendar, or the object ID or UPN
	// of the person a delegate schedules for (who is then the organizer).
	Mailbox string `json:"mailbox,omitempty"`
}

// JoinInfo is the rendered join block.
type JoinInfo struct {
	HTML string `json:"html"`
	Text string `json:"text"`
}

// Meeting is what the API answers.
type Meeting struct {
	ID           string                   `json:"id"`
	Provider     string                   `json:"provider"`
	ConferenceID string                   `json:"conferenceId"`
	JoinURL      string                   `json:"joinUrl"`
	Passcode     string                   `json:"passcode,omitempty"`
	DialIn       []scheduler.DialIn       `json:"dialIn"`
	DialInURL    string                   `json:"dialInUrl,omitempty"`
	JoinInfo     JoinInfo                 `json:"joinInfo"`
	Location     string                   `json:"location"`
	EventID      string                   `json:"eventId,omitempty"`
	Mailbox      string                   `json:"mailbox,omitempty"` // the owner's ID when a delegate scheduled it
	Start        time.Time                `json:"start"`
	End          time.Time                `json:"end"`
	Options      scheduler.MeetingOptions `json:"options"`
}

// Limits on input, so a request cannot make us write huge items.
const (
	maxSubject   = 255
	maxAttendees = 1000
	maxDuration  = 31 * 24 * time.Hour
)

func invalid(format string, args ...any) error {
	return scheduler.Errorf(scheduler.ECodeInvalid, format, args...)
}

// Validate checks a request before anything is allocated.
func (r *Request) Validate() error {
	r.Subject = strings.TrimSpace(r.Subject)
	switch {
	case len(r.Subject) > maxSubject:
		return invalid("The subject is longer than %d characters.", maxSubject)
	case r.Start.IsZero() || r.End.IsZero():
		return invalid("Start and end times are required (RFC 3339).")
	case !r.End.After(r.Start):
		return invalid("The meeting must end after it starts.")
	case r.End.Sub(r.Start) > maxDuration:
		return invalid("A meeting may last at most 31 days.")
	case r.EventID != "" && r.CreateEvent:
		return invalid("Give either eventId or createEvent, not both.")
	case len(r.EventID) > 512:
		return invalid("The event ID is too long.")
	case len(r.Mailbox) > 320:
		return invalid("The mailbox is too long.")
	case r.Mailbox != "" && r.EventID == "" && !r.CreateEvent:
		return invalid("A meeting on someone's behalf lives in their calendar: give eventId or createEvent.")
	}
	if err := validAttendees(r.Attendees); err != nil {
		return err
	}
	r.Options = r.Options.WithDefaults()
	return validOptions(r.Options)
}

func validAttendees(addrs []string) error {
	if len(addrs) > maxAttendees {
		return invalid("A meeting may have at most %d attendees.", maxAttendees)
	}
	for _, a := range addrs {
		if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "<>") {
			return invalid("%q is not an e-mail address.", truncate(a, 80))
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func newMeetingID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ttl is how long a completed conference lives: until its end plus retention.
func (s *Service) ttl(c scheduler.Conference) time.Duration {
	d := c.End.Add(retention).Sub(s.now())
	if d < time.Hour {
		d = time.Hour
	}
	return d
}

// Create allocates a conference for the request and, when asked, writes
// its join information into an existing or new calendar item. The same
// idempotency key from the same user always yields the same meeting.
func (s *Service) Create(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, req Request, idemKey string) (Meeting, error) {
	if err := req.Validate(); err != nil {
		return Meeting{}, err
	}
	if idemKey == "" {
		return s.create(ctx, p, prof, req, nil)
	}
	if len(idemKey) > 255 {
		return Meeting{}, invalid("The Idempotency-Key header is longer than 255 characters.")
	}
	key := s.Box.Key("idempotency", p.TID, p.OID, idemKey)
	id, claimed, err := s.Idempotency.ClaimIdempotency(ctx, key, claimLease)
	if err != nil {
		return Meeting{}, err
	}
	if !claimed {
		if id == "" || strings.HasPrefix(id, pendingMark) {
			if id, err = s.awaitIdempotent(ctx, key); err != nil {
				return Meeting{}, err
			}
		}
		return s.resume(ctx, p, prof, id, req)
	}
	// The key names the meeting, as pending, as soon as its conference
	// exists: if this request never finishes (the store goes away under
	// it), a retry resumes with the meeting instead of waiting for ever.
	m, err := s.create(ctx, p, prof, req, func(meetingID string) error {
		return s.Idempotency.CompleteIdempotency(ctx, key, pendingMark+meetingID, idempotencyTTL)
	})
	if m.ID == "" {
		// Nothing was kept: a retry may run afresh.
		if rerr := s.Idempotency.ReleaseIdempotency(context.WithoutCancel(ctx), key); rerr != nil {
			return Meeting{}, errors.Join(err, rerr)
		}
		return Meeting{}, err
	}
	// The conference exists even if the calendar write failed: a retry with
	// the same key resumes with it instead of allocating a second one.
	if cerr := s.Idempotency.CompleteIdempotency(context.WithoutCancel(ctx), key, m.ID, idempotencyTTL); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return Meeting{}, err
	}
	return m, nil
}

// awaitIdempotent waits for the request that claimed key to record its
// meeting. A meeting still pending after the whole wait is taken over: its
// request is gone (or stuck), and resuming completes what it began.
func (s *Service) awaitIdempotent(ctx context.Context, key string) (string, error) {
	wait := s.IdempotencyWait
	if wait == 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	pending := ""
	for delay := 10 * time.Millisecond; time.Now().Before(deadline); delay = min(delay*2, 250*time.Millisecond) {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(delay):
		}
		id, claimed, err := s.Idempotency.ClaimIdempotency(ctx, key, claimLease)
		if err != nil {
			return "", err
		}
		if claimed {
			// The first request failed and released its claim: ours now.
			_ = s.Idempotency.ReleaseIdempotency(context.WithoutCancel(ctx), key)
			return "", scheduler.Errorf(scheduler.ECodeConflict, "The first request with this Idempotency-Key failed; retry it.")
		}
		if p, ok := strings.CutPrefix(id, pendingMark); ok {
			pending = p
		} else if id != "" {
			return id, nil
		}
	}
	if pending != "" {
		return pending, nil
	}
	return "", scheduler.Errorf(scheduler.ECodeConflict, "A request with this Idempotency-Key is still in progress.")
}

// resume answers a repeated request: the stored meeting, with the calendar
// write completed if the first attempt could not finish it.
func (s *Service) resume(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, id string, req Request) (Meeting, error) {
	c, err := s.owned(ctx, p, id)
	if err != nil {
		return Meeting{}, err
	}
	if prof, err = s.organizer(ctx, p, prof, c); err != nil {
		return Meeting{}, err
	}
	if c.EventID == "" && req.CreateEvent {
		// The first attempt may have created the item (invitations sent)
		// and lost only the record of it: adopt that item, found by our
		// property, rather than invite everyone twice.
		evs, err := s.Calendar.Events(ctx, p, c.Mailbox, c.Start, c.End)
		if err != nil {
			return Meeting{}, err
		}
		for _, ev := range evs {
			if ev.ConferenceID == c.ConferenceID {
				req.CreateEvent, req.EventID = false, ev.ID
				break
			}
		}
	}
	if c.EventID == "" && (req.EventID != "" || req.CreateEvent) {
		return s.writeCalendar(ctx, p, prof, c, req, nil)
	}
	return s.view(ctx, prof, c, req.Locale)
}

// create allocates and writes a meeting; allocated, when set, is told the
// meeting's ID as soon as its conference is stored.
func (s *Service) create(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, req Request, allocated func(meetingID string) error) (Meeting, error) {
	mailbox := ""
	if req.Mailbox != "" {
		owner, err := s.owner(ctx, p, prof, req.Mailbox)
		if err != nil {
			return Meeting{}, err
		}
		if owner.ID != p.OID {
			prof, mailbox = owner, owner.ID
		}
	}
	var item *readAhead
	if req.EventID != "" && !req.CreateEvent {
		item = s.readAhead(ctx, p, mailbox, req.EventID)
		defer item.stop()
	}
	creq := scheduler.ConferenceRequest{
		Principal: p, Organizer: prof, MeetingID: newMeetingID(),
		Subject: req.Subject, Start: req.Start.UTC(), End: req.End.UTC(), Options: req.Options,
		Attendees: req.Attendees,
	}
	c, err := s.allocate(ctx, creq, req.EventID != "" || req.CreateEvent, mailbox)
	if err != nil {
		return Meeting{}, err
	}
	if allocated != nil {
		if err := allocated(c.MeetingID); err != nil {
			return Meeting{ID: c.MeetingID}, err
		}
	}
	if req.EventID == "" && !req.CreateEvent {
		return s.view(ctx, prof, c, req.Locale)
	}
	m, err := s.writeCalendar(ctx, p, prof, c, req, item)
	if scheduler.ErrorCode(err) == scheduler.ECodeForbidden {
		// No access to that calendar: a retry cannot succeed, so keep nothing.
		if ferr := s.discard(context.WithoutCancel(ctx), p, c); ferr != nil {
			return Meeting{ID: c.MeetingID}, errors.Join(err, ferr)
		}
		return Meeting{}, err
	}
	if err != nil {
		return Meeting{ID: c.MeetingID}, err
	}
	return m, nil
}

// discard frees a conference and forgets it.
func (s *Service) discard(ctx context.Context, p scheduler.Principal, c scheduler.Conference) error {
	if err := s.Provider.FreeConference(ctx, c, p); err != nil {
		return err
	}
	return s.Conferences.DeleteConference(ctx, c.MeetingID)
}

// allocate asks the provider for a conference until one stores without a
// conflict. A conference awaiting its calendar write lives only pendingTTL.
// With a mailbox, its owner is the organizer; the delegate only acts.
func (s *Service) allocate(ctx context.Context, creq scheduler.ConferenceRequest, pending bool, mailbox string) (scheduler.Conference, error) {
	for range maxAllocations {
		c, err := s.Provider.NewConference(ctx, creq)
		if err != nil {
			return scheduler.Conference{}, err
		}
		c.MeetingID, c.Provider = creq.MeetingID, s.Provider.Name()
		c.OrganizerOID, c.TID = creq.Principal.OID, creq.Principal.TID
		if mailbox != "" {
			c.OrganizerOID, c.Mailbox = mailbox, mailbox
		}
		c.Start, c.End = creq.Start, creq.End
		c.Created, c.Updated = s.now().UTC(), s.now().UTC()
		ttl := s.ttl(c)
		if pending {
			ttl = pendingTTL
		}
		err = s.createConference(ctx, c, ttl)
		if scheduler.ErrorCode(err) == scheduler.ECodeConflict {
			continue
		}
		if err != nil {
			_ = s.Provider.FreeConference(context.WithoutCancel(ctx), c, creq.Principal)
			return scheduler.Conference{}, err
		}
		return c, nil
	}
	return scheduler.Conference{}, scheduler.Errorf(scheduler.ECodeUnavailable, "No free conference ID was found; ask your admin to lengthen conference IDs.")
}

// createConference stores a new conference with its options sealed: the
// service stores conferences, so it seals them (a presenter list names
// people), and it seals what is in memory at every write, so the record
// never falls behind.
func (s *Service) createConference(ctx context.Context, c scheduler.Conference, ttl time.Duration) error {
	if err := s.sealOptions(&c); err != nil {
		return err
	}
	return s.Conferences.CreateConference(ctx, c, ttl)
}

// updateConference replaces a stored conference, its options sealed as in
// createConference.
func (s *Service) updateConference(ctx context.Context, c scheduler.Conference, ttl time.Duration) error {
	if err := s.sealOptions(&c); err != nil {
		return err
	}
	return s.Conferences.UpdateConference(ctx, c, ttl)
}

// optionsContext binds sealed options to their meeting, so that options
// copied into another record do not open.
func optionsContext(meetingID string) string { return "options:" + meetingID }

func (s *Service) sealOptions(c *scheduler.Conference) error {
	plain, err := json.Marshal(c.Options)
	if err != nil {
		return err
	}
	c.SealedOptions = s.Box.Seal(plain, optionsContext(c.MeetingID))
	return nil
}

// openOptions fails rather than leave the options empty: an update would
// then store the defaults over the organizer's choices.
func (s *Service) openOptions(c *scheduler.Conference) error {
	c.Options = scheduler.MeetingOptions{}
	if len(c.SealedOptions) == 0 {
		return nil
	}
	plain, err := s.Box.Open(c.SealedOptions, optionsContext(c.MeetingID))
	if err != nil {
		return fmt.Errorf("meeting: options of meeting %s: %w", c.MeetingID, err)
	}
	if err := json.Unmarshal(plain, &c.Options); err != nil {
		return fmt.Errorf("meeting: options of meeting %s: %w", c.MeetingID, err)
	}
	return nil
}

// owned loads a meeting the principal may see: its organizer's, or any for
// an admin. Anyone else is told it does not exist.
func (s *Service) owned(ctx context.Context, p scheduler.Principal, id string) (scheduler.Conference, error) {
	c, err := s.Conferences.ConferenceByMeeting(ctx, id)
	if err != nil {
		if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
			return c, scheduler.Errorf(scheduler.ECodeNotFound, "No such meeting.")
		}
		return c, err
	}
	if (c.OrganizerOID != p.OID || c.TID != p.TID) && !(p.IsAdmin() && c.TID == p.TID) {
		if err := s.delegateCanReach(ctx, p, c); err != nil {
			return scheduler.Conference{}, err
		}
	}
	if err := s.openOptions(&c); err != nil {
		return scheduler.Conference{}, err
	}
	return c, nil
}

// view renders a stored conference for the API.
func (s *Service) view(ctx context.Context, prof scheduler.Profile, c scheduler.Conference, locale string) (Meeting, error) {
	d, err := s.Provider.Details(ctx, c)
	if err != nil {
		return Meeting{}, err
	}
	if locale == "" {
		locale = prof.PreferredLanguage
	}
	dial := inRegion(d.DialIn, c.Options.DialInRegion)
	block, err := s.Templates.Render(locale, joininfo.Meeting{
		OrganizerName: prof.DisplayName, JoinURL: d.JoinURL, ConferenceID: d.ConferenceID, Passcode: d.Passcode,
		DialInURL: d.DialInURL, DialIn: dialIns(dial), Lobby: c.Options.Lobby, PhoneBypass: c.Options.PhoneBypass,
	})
	if err != nil {
		return Meeting{}, err
	}
	if dial == nil {
		dial = []scheduler.DialIn{}
	}
	return Meeting{
		ID: c.MeetingID, Provider: c.Provider, ConferenceID: d.ConferenceID, JoinURL: d.JoinURL, Passcode: d.Passcode,
		DialIn: dial, DialInURL: d.DialInURL, JoinInfo: JoinInfo{HTML: block.HTML, Text: block.Text},
		Location: d.JoinURL, EventID: c.EventID, Mailbox: c.Mailbox, Start: c.Start, End: c.End, Options: c.Options,
	}, nil
}

func dialIns(in []scheduler.DialIn) []joininfo.DialIn {
	out := make([]joininfo.DialIn, 0, len(in))
	for _, d := range in {
		out = append(out, joininfo.DialIn{Region: d.Region, Number: d.Number, Language: d.Language, TollFree: d.TollFree})
	}
	return out
}
