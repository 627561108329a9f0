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
	c, err := s.Conferences.ConferenceByID(ctx, conferenceID)
	if err != nil {
		return c, joininfo.Block{}, err
	}
	if err := s.openOptions(&c); err != nil {
		return c, joininfo.Block{}, err
	}
	m, err := s.view(ctx, scheduler.Profile{DisplayName: organizerName}, c, locale)
	if err != nil {
		return c, joininfo.Block{}, err
	}
	return c, joininfo.Block{HTML: m.JoinInfo.HTML, Text: m.JoinInfo.Text}, nil
}
