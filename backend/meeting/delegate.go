package meeting

import (
	"context"
	"strings"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Users reads another person's profile (graph.Client).
type Users interface {
	User(ctx context.Context, p scheduler.Principal, id string) (scheduler.Profile, error)
}

// owner resolves the person whose calendar mailbox names. The caller's
// language stays: they read the join information as it is written.
func (s *Service) owner(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, mailbox string) (scheduler.Profile, error) {
	if s.Users == nil {
		return scheduler.Profile{}, invalid("Scheduling on someone's behalf is not available here.")
	}
	owner, err := s.Users.User(ctx, p, mailbox)
	if err != nil {
		return scheduler.Profile{}, err
	}
	owner.PreferredLanguage = prof.PreferredLanguage
	return owner, nil
}

// organizer is the profile a meeting's join information names: the caller
// for their own meetings, the calendar's owner when a delegate acts.
func (s *Service) organizer(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, c scheduler.Conference) (scheduler.Profile, error) {
	if c.Mailbox == "" || c.OrganizerOID == p.OID {
		return prof, nil
	}
	return s.owner(ctx, p, prof, c.Mailbox)
}

// delegateCanReach lets a delegate manage a meeting in the owner's calendar
// for as long as Graph lets them read its item; anyone else is told the
// meeting does not exist.
func (s *Service) delegateCanReach(ctx context.Context, p scheduler.Principal, c scheduler.Conference) error {
	notFound := scheduler.Errorf(scheduler.ECodeNotFound, "No such meeting.")
	if c.Mailbox == "" || c.EventID == "" || c.TID != p.TID {
		return notFound
	}
	_, err := s.Calendar.Event(ctx, p, c.Mailbox, c.EventID)
	switch scheduler.ErrorCode(err) {
	case "":
		return nil
	case scheduler.ECodeForbidden, scheduler.ECodeNotFound:
		return notFound
	}
	return err
}

// Details returns a meeting with its calendar item (subject, attendees,
// organizer); the item is empty when it was deleted in the calendar.
func (s *Service) Details(ctx context.Context, p scheduler.Principal, prof scheduler.Profile, id, locale string) (Meeting, scheduler.Event, error) {
	m, err := s.Get(ctx, p, prof, id, locale)
	if err != nil || m.EventID == "" {
		return m, scheduler.Event{}, err
	}
	ev, err := s.Calendar.Event(ctx, p, m.Mailbox, m.EventID)
	if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
		return m, scheduler.Event{}, nil
	}
	return m, ev, err
}

const maxRegion = 100

func validOptions(o scheduler.MeetingOptions) error {
	if len(o.DialInRegion) > maxRegion {
		return invalid("The dial-in region is longer than %d characters.", maxRegion)
	}
	return o.Validate()
}

// inRegion keeps the numbers of a region. A region no number has (the
// admin renamed it since) keeps them all: callers must never be left
// without a number.
func inRegion(numbers []scheduler.DialIn, region string) []scheduler.DialIn {
	if region == "" {
		return numbers
	}
	var out []scheduler.DialIn
	for _, n := range numbers {
		if strings.EqualFold(n.Region, region) {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return numbers
	}
	return out
}
