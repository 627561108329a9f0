package meeting

import (
	"context"
	"time"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// writeCalendar puts the join information into the request's calendar
// item (or a new one) and marks the conference complete. item, when not
// nil, is the request's item already being read.
func (s *Service) writeCalendar(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, c scheduler.Conference, req Request, item *readAhead) (Meeting, error) {
	m, err := s.view(ctx, prof, c, req.Locale)
	if err != nil {
		return Meeting{}, err
	}
	var ev scheduler.Event
	if req.CreateEvent {
		ev, err = s.Calendar.CreateEvent(ctx, p, c.Mailbox, scheduler.Event{
			Subject: req.Subject, BodyType: scheduler.BodyHTML,
			Body:     joininfo.Replace("", joininfo.BodyHTML, joininfo.Block{HTML: m.JoinInfo.HTML, Text: m.JoinInfo.Text}),
			Location: m.Location, Start: c.Start, End: c.End, TimeZone: req.TimeZone,
			Attendees: attendees(req.Attendees), ConferenceID: c.ConferenceID,
		})
	} else {
		ev, err = s.stamp(ctx, p, c.Mailbox, req.EventID, m, item)
	}
	if err != nil {
		return Meeting{}, err
	}
	first := c.EventID == ""
	c.EventID = ev.ID
	c.Updated = s.now().UTC()
	if err := s.updateConference(ctx, c, s.ttl(c)); err != nil {
		if first && !req.CreateEvent {
			// The store cannot record the item: take the block out again
			// (best effort), so no item names a conference that may expire
			// and be given to someone else. A retry writes it afresh.
			_ = s.unstamp(context.WithoutCancel(ctx), p, c.Mailbox, ev.ID, m.Location)
		}
		return Meeting{}, err
	}
	m.EventID = ev.ID
	return m, nil
}

func attendees(addrs []string) []scheduler.Attendee {
	out := make([]scheduler.Attendee, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, scheduler.Attendee{Address: a, Type: "required"})
	}
	return out
}

// stamp replaces (or inserts) the join block in an existing item, sets the
// location and our property, guarded by the change key: when someone edits
// the item meanwhile, it reads it again and retries, so no edit is lost.
func (s *Service) stamp(ctx context.Context, p scheduler.Principal, mailbox, eventID string, m Meeting, item *readAhead) (scheduler.Event, error) {
	block := joininfo.Block{HTML: m.JoinInfo.HTML, Text: m.JoinInfo.Text}
	return s.patchBody(ctx, p, mailbox, eventID, item, func(ev scheduler.Event) scheduler.EventPatch {
		body := joininfo.Replace(ev.Body, bodyType(ev.BodyType), block)
		loc, id := m.Location, m.ConferenceID
		return scheduler.EventPatch{BodyType: ev.BodyType, Body: &body, Location: &loc, ConferenceID: &id}
	})
}

// unstamp removes our block, our location and our property from an item.
func (s *Service) unstamp(ctx context.Context, p scheduler.Principal, mailbox, eventID, joinURL string) error {
	_, err := s.patchBody(ctx, p, mailbox, eventID, nil, func(ev scheduler.Event) scheduler.EventPatch {
		body := joininfo.Remove(ev.Body, bodyType(ev.BodyType))
		none := ""
		patch := scheduler.EventPatch{BodyType: ev.BodyType, Body: &body, ConferenceID: &none}
		if ev.Location == joinURL {
			patch.Location = &none
		}
		return patch
	})
	return err
}

// patchBody reads the item (the first time from item, when given), changes
// it and writes it back guarded by its change key, reading it again when
// it changed meanwhile.
func (s *Service) patchBody(ctx context.Context, p scheduler.Principal, mailbox, eventID string, item *readAhead, change func(scheduler.Event) scheduler.EventPatch) (scheduler.Event, error) {
	var err error
	for range changeKeyRetries {
		var ev scheduler.Event
		if item != nil {
			ev, err = item.wait(ctx)
			item = nil
		} else {
			ev, err = s.Calendar.Event(ctx, p, mailbox, eventID)
		}
		if err != nil {
			return scheduler.Event{}, err
		}
		var out scheduler.Event
		out, err = s.Calendar.UpdateEvent(ctx, p, mailbox, eventID, ev.ChangeKey, change(ev))
		if scheduler.ErrorCode(err) == scheduler.ECodePreconditionFail {
			continue
		}
		return out, err
	}
	return scheduler.Event{}, err
}

func bodyType(t string) joininfo.BodyType {
	if t == scheduler.BodyText {
		return joininfo.BodyText
	}
	return joininfo.BodyHTML
}

// Get returns one meeting the principal owns.
func (s *Service) Get(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, id, locale string) (Meeting, error) {
	c, err := s.owned(ctx, p, id)
	if err != nil {
		return Meeting{}, err
	}
	if prof, err = s.organizer(ctx, p, prof, c); err != nil {
		return Meeting{}, err
	}
	return s.view(ctx, prof, c, locale)
}

// WriteCalendar writes or refreshes the join information in the meeting's
// calendar item, or in eventID when the meeting has none yet.
func (s *Service) WriteCalendar(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, id, eventID, locale string) (Meeting, error) {
	c, err := s.owned(ctx, p, id)
	if err != nil {
		return Meeting{}, err
	}
	if c.EventID != "" {
		if eventID != "" && eventID != c.EventID {
			return Meeting{}, scheduler.Errorf(scheduler.ECodeConflict, "This meeting already belongs to another calendar item.")
		}
		eventID = c.EventID
	}
	if eventID == "" {
		return Meeting{}, invalid("Give the eventId of the calendar item to write to.")
	}
	if prof, err = s.organizer(ctx, p, prof, c); err != nil {
		return Meeting{}, err
	}
	return s.writeCalendar(ctx, p, prof, c, Request{EventID: eventID, Locale: locale}, nil)
}

// Patch is a change to a meeting; nil fields stay as they are.
type Patch struct {
	Start   *time.Time                `json:"start"`
	End     *time.Time                `json:"end"`
	Options *scheduler.MeetingOptions `json:"options"`
	// Attendees, when given, are the item's invitees now (the add-in sends
	// them when they change); providers that admit by invitation use them.
	Attendees *[]string `json:"attendees,omitempty"`
	Locale    string    `json:"locale,omitempty"`
}

// Update changes options or times, and refreshes the calendar item.
func (s *Service) Update(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, id string, patch Patch) (Meeting, error) {
	c, err := s.owned(ctx, p, id)
	if err != nil {
		return Meeting{}, err
	}
	if prof, err = s.organizer(ctx, p, prof, c); err != nil {
		return Meeting{}, err
	}
	req := scheduler.ConferenceRequest{Principal: p, Organizer: prof, MeetingID: c.MeetingID, Start: c.Start, End: c.End, Options: c.Options}
	if patch.Attendees != nil {
		if err := validAttendees(*patch.Attendees); err != nil {
			return Meeting{}, err
		}
		req.Attendees = append([]string{}, *patch.Attendees...)
	}
	if patch.Start != nil {
		req.Start = patch.Start.UTC()
	}
	if patch.End != nil {
		req.End = patch.End.UTC()
	}
	if !req.End.After(req.Start) {
		return Meeting{}, invalid("The meeting must end after it starts.")
	}
	if patch.Options != nil {
		req.Options = patch.Options.WithDefaults()
		if err := validOptions(req.Options); err != nil {
			return Meeting{}, err
		}
	}
	updated, err := s.Provider.UpdateConference(ctx, c, req)
	if err != nil {
		return Meeting{}, err
	}
	updated.Start, updated.End, updated.Updated = req.Start, req.End, s.now().UTC()
	m, err := s.view(ctx, prof, updated, patch.Locale)
	if err != nil {
		return Meeting{}, err
	}
	if c.EventID != "" {
		block := joininfo.Block{HTML: m.JoinInfo.HTML, Text: m.JoinInfo.Text}
		_, err := s.patchBody(ctx, p, c.Mailbox, c.EventID, nil, func(ev scheduler.Event) scheduler.EventPatch {
			body := joininfo.Replace(ev.Body, bodyType(ev.BodyType), block)
			out := scheduler.EventPatch{BodyType: ev.BodyType, Body: &body}
			if patch.Start != nil || patch.End != nil {
				out.Start, out.End = &req.Start, &req.End
			}
			return out
		})
		if err != nil {
			return Meeting{}, err
		}
	}
	if err := s.updateConference(ctx, updated, s.ttl(updated)); err != nil {
		return Meeting{}, err
	}
	return m, nil
}

// Delete frees the conference and takes the join information out of the
// calendar item (or, with cancel, cancels the item with a message to its
// attendees). The calendar is changed first: if that fails, nothing is
// freed and the request can be retried.
func (s *Service) Delete(ctx context.Context, p scheduler.Principal, id string, cancel bool, comment string) error {
	c, err := s.owned(ctx, p, id)
	if err != nil {
		return err
	}
	if c.EventID != "" {
		d, err := s.Provider.Details(ctx, c)
		if err != nil {
			return err
		}
		if cancel {
			err = s.Calendar.CancelEvent(ctx, p, c.Mailbox, c.EventID, comment)
		} else {
			err = s.unstamp(ctx, p, c.Mailbox, c.EventID, d.JoinURL)
		}
		if err != nil && scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
			return err
		}
	}
	return s.discard(ctx, p, c)
}

// List returns the meetings between start and end that carry Web Scheduler
// join information, read from the principal's calendar or, for a delegate,
// from mailbox's.
func (s *Service) List(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, mailbox string, start, end time.Time, locale string) ([]Listed, error) {
	if !end.After(start) || end.Sub(start) > 366*24*time.Hour {
		return nil, invalid("Give start and end (RFC 3339), at most a year apart.")
	}
	events, err := s.Calendar.Events(ctx, p, mailbox, start, end)
	if err != nil {
		return nil, err
	}
	out := make([]Listed, 0, len(events))
	for _, ev := range events {
		l := Listed{EventID: ev.ID, Subject: ev.Subject, Start: ev.Start, End: ev.End, ConferenceID: ev.ConferenceID, WebLink: ev.WebLink}
		// A delegate manages what was scheduled into the owner's calendar.
		if c, err := s.Conferences.ConferenceByID(ctx, ev.ConferenceID); err == nil && c.TID == p.TID &&
			(c.OrganizerOID == p.OID || mailbox != "" && c.Mailbox != "" && c.EventID == ev.ID) {
			l.ID, l.JoinURL = c.MeetingID, c.JoinURL
		}
		out = append(out, l)
	}
	return out, nil
}

// Listed is one calendar item carrying our join information.
type Listed struct {
	ID           string    `json:"id,omitempty"` // empty when the conference is gone
	EventID      string    `json:"eventId"`
	Subject      string    `json:"subject"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	ConferenceID string    `json:"conferenceId"`
	JoinURL      string    `json:"joinUrl,omitempty"`
	WebLink      string    `json:"webLink,omitempty"`
}

// readAhead is a calendar item being read in the background, so that the
// read overlaps other work (allocating the conference: a Graph call of its
// own with Teams, store round trips otherwise). The write that follows is
// guarded by the item's change key, so reading early loses no edit.
type readAhead struct {
	done   chan struct{}
	ev     scheduler.Event
	err    error
	cancel context.CancelFunc
}

// readAhead starts reading an item; stop (or the end of ctx) abandons it.
func (s *Service) readAhead(ctx context.Context, p scheduler.Principal, mailbox, eventID string) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	r := &readAhead{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(r.done)
		r.ev, r.err = s.Calendar.Event(ctx, p, mailbox, eventID)
	}()
	return r
}

func (r *readAhead) wait(ctx context.Context) (scheduler.Event, error) {
	select {
	case <-r.done:
		return r.ev, r.err
	case <-ctx.Done():
		return scheduler.Event{}, ctx.Err()
	}
}

func (r *readAhead) stop() { r.cancel() }
