package meeting_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/meeting"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// countingStore counts look-ups by conference ID.
type countingStore struct {
	*inmem.Store
	lookups atomic.Int32
}

func (c *countingStore) ConferenceByID(ctx context.Context, id string) (scheduler.Conference, error) {
	c.lookups.Add(1)
	return c.Store.ConferenceByID(ctx, id)
}

// Blocks renders every locale as Block does, and what Create wrote, from
// one look-up of the conference.
func TestBlocksRenderLikeBlock(t *testing.T) {
	t.Parallel()
	box, err := secret.New(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: inmem.New()}
	tmpl := joininfo.DefaultTemplates()
	s := &meeting.Service{
		Conferences: store,
		Idempotency: store,
		Provider:    conferencing.NewTemplate(conferencing.SandboxSettings("http://localhost:8080"), box),
		Calendar:    &fakeCalendar{},
		Templates:   tmpl,
		Box:         box,
	}
	ctx := context.Background()
	p := scheduler.Principal{OID: "oid-adele", TID: "tid-contoso"}
	prof := scheduler.NewProfile("oid-adele", "Adele Vance", "Adele", "Vance", "adele.vance@contoso.example", "adele.vance@contoso.example", "de-DE", nil)
	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute)
	m, err := s.Create(ctx, p, prof, meeting.Request{
		Subject: "Quarterly review", Start: start, End: start.Add(time.Hour), CreateEvent: true,
		Options: scheduler.MeetingOptions{PhoneBypass: true},
	}, "")
	if err != nil {
		t.Fatal(err)
	}

	store.lookups.Store(0)
	render, err := s.Blocks(ctx, m.ConferenceID, "Adele Vance")
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range append(tmpl.Locales(), "de-DE", "") {
		got, err := render(loc)
		if err != nil {
			t.Fatal(err)
		}
		_, want, err := s.Block(ctx, m.ConferenceID, "Adele Vance", loc)
		if err != nil || got != want {
			t.Errorf("%q: Blocks gave\n%+v\nBlock gave\n%+v (%v)", loc, got, want, err)
		}
		if loc == "de-DE" && (got.HTML != m.JoinInfo.HTML || got.Text != m.JoinInfo.Text) {
			t.Errorf("the German block is not what Create wrote:\n%+v\n%+v", got, m.JoinInfo)
		}
	}
	if n, blocks := store.lookups.Load(), int32(len(tmpl.Locales())+2); n != 1+blocks {
		t.Errorf("%d look-ups: Blocks should make one, and Block one each (%d)", n, blocks)
	}

	if _, err := s.Blocks(ctx, "000000000", "Adele Vance"); scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
		t.Errorf("Blocks of an unknown conference: %v", err)
	}
}
