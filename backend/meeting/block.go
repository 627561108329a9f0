package meeting

import (
	"context"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Renderer renders join blocks: *joininfo.Templates, or the admin's
// current templates, which change while the service runs.
type Renderer interface {
	Render(locale string, m joininfo.Meeting) (joininfo.Block, error)
}

// Block renders the join block of the stored conference with the given
// conference ID exactly as Create and Update write it, for an organizer
// named organizerName, in locale. Bulk refreshes use it to know what an
// invitation should show now.
func (s *Service) Block(ctx context.Context, conferenceID, organizerName, locale string) (scheduler.Conference, joininfo.Block, error) {
	c, err := s.conference(ctx, conferenceID)
	if err != nil {
		return c, joininfo.Block{}, err
	}
	b, err := s.block(ctx, c, organizerName, locale)
	return c, b, err
}

// Blocks is Block for any number of locales from one look-up of the
// conference: a bulk refresh renders one meeting in every locale to tell
// which one its invitation was written in.
func (s *Service) Blocks(ctx context.Context, conferenceID, organizerName string) (func(locale string) (joininfo.Block, error), error) {
	c, err := s.conference(ctx, conferenceID)
	if err != nil {
		return nil, err
	}
	return func(locale string) (joininfo.Block, error) { return s.block(ctx, c, organizerName, locale) }, nil
}

// conference loads a stored conference with its options open.
func (s *Service) conference(ctx context.Context, conferenceID string) (scheduler.Conference, error) {
	c, err := s.Conferences.ConferenceByID(ctx, conferenceID)
	if err != nil {
		return c, err
	}
	return c, s.openOptions(&c)
}

func (s *Service) block(ctx context.Context, c scheduler.Conference, organizerName, locale string) (joininfo.Block, error) {
	m, err := s.view(ctx, scheduler.Profile{DisplayName: organizerName}, c, locale)
	if err != nil {
		return joininfo.Block{}, err
	}
	return joininfo.Block{HTML: m.JoinInfo.HTML, Text: m.JoinInfo.Text}, nil
}
