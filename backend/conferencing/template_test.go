package conferencing_test

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

func newBox(t testing.TB) *secret.Box {
	t.Helper()
	box, err := secret.New(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// templateSettings are valid settings with the given join URL template
// and ID length.
func templateSettings(t testing.TB, joinURL string, idLength int, passcode conferencing.PasscodePolicy) conferencing.Settings {
	t.Helper()
	s := conferencing.SandboxSettings("https://scheduler.contoso.example")
	s.Template.JoinURL = joinURL
	s.Template.ConferenceIDLength = idLength
	s.Template.Passcode = passcode
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	start = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	end   = start.Add(time.Hour)
)

func request(meetingID string) scheduler.ConferenceRequest {
	return scheduler.ConferenceRequest{
		Principal: scheduler.Principal{OID: "oid-adele", TID: "tid-contoso"},
		Organizer: scheduler.NewProfile("oid-adele", "Adele Vance", "Adele", "Vance", "adele.vance@contoso.example", "adele.vance@contoso.example", "en-US",
			[]string{"SMTP:adele.vance@contoso.example", "SIP:adele.vance@sip.contoso.example"}),
		MeetingID: meetingID,
		Subject:   "Quarterly review",
		Start:     start,
		End:       end,
	}
}

func TestTemplateConferenceIDs(t *testing.T) {
	t.Parallel()
	for _, n := range []int{5, 7, 12} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			s := templateSettings(t, "https://meet.contoso.example/{conference_id}", n, conferencing.PasscodePolicy{Policy: conferencing.PasscodeNone})
			p := conferencing.NewTemplate(s, newBox(t))
			for i := range 200 {
				c, err := p.NewConference(context.Background(), request("m"+strconv.Itoa(i)))
				if err != nil {
					t.Fatal(err)
				}
				id := c.ConferenceID
				if len(id) != n || strings.Trim(id, "0123456789") != "" || id[0] == '0' {
					t.Fatalf("conference ID %q: want %d digits, the first not 0", id, n)
				}
				if c.Room != "meeting-"+id || c.JoinURL != "https://meet.contoso.example/"+id {
					t.Errorf("room %q, join URL %q do not hold the ID %s", c.Room, c.JoinURL, id)
				}
				if c.Provider != "template" || c.MeetingID != "m"+strconv.Itoa(i) || c.OrganizerOID != "oid-adele" || c.TID != "tid-contoso" ||
					!c.Start.Equal(start) || !c.End.Equal(end) || c.Created.IsZero() || len(c.SealedPasscode) != 0 {
					t.Errorf("conference = %+v", c)
				}
			}
		})
	}
}

// TestTemplateConferenceIDSpread checks that IDs look random: every digit
// turns up about equally often at every position, and consecutive IDs
// neither count up nor keep an order.
func TestTemplateConferenceIDSpread(t *testing.T) {
	t.Parallel()
	const n, length = 1000, 12
	s := templateSettings(t, "https://meet.contoso.example/{conference_id}", length, conferencing.PasscodePolicy{Policy: conferencing.PasscodeNone})
	p := conferencing.NewTemplate(s, newBox(t))
	var ids []string
	for i := range n {
		c, err := p.NewConference(context.Background(), request("m"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ConferenceID)
	}
	if distinct := len(slices.Compact(slices.Sorted(slices.Values(ids)))); distinct != n {
		t.Errorf("%d distinct IDs of %d", distinct, n)
	}
	var counts [length][10]int
	rising, steps := 0, 0
	for i, id := range ids {
		for pos := range length {
			counts[pos][id[pos]-'0']++
		}
		if i > 0 {
			a, _ := strconv.ParseUint(ids[i-1], 10, 64)
			b, _ := strconv.ParseUint(id, 10, 64)
			if b > a {
				rising++
			}
			if b-a < 1000 || a-b < 1000 {
				steps++
			}
		}
	}
	// Expected 100 (111 for the first position's 1-9); a count under 50
	// is more than five standard deviations off.
	for pos, c := range counts {
		for d, k := range c {
			if pos == 0 && d == 0 {
				if k != 0 {
					t.Errorf("%d IDs start with 0", k)
				}
				continue
			}
			if k < 50 {
				t.Errorf("digit %d at position %d: %d times in %d IDs", d, pos, k, n)
			}
		}
	}
	if rising < 400 || rising > 600 {
		t.Errorf("%d of %d consecutive IDs rise; want about half", rising, n-1)
	}
	if steps > 0 {
		t.Errorf("%d consecutive IDs lie within 1000 of each other", steps)
	}
}

func TestTemplatePasscode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy conferencing.PasscodePolicy
		want   int // passcode length, 0 for none
	}{
		{conferencing.PasscodePolicy{Policy: conferencing.PasscodeNone}, 0},
		{conferencing.PasscodePolicy{Policy: conferencing.PasscodeOptional, Length: 4}, 4},
		{conferencing.PasscodePolicy{Policy: conferencing.PasscodeRequired, Length: 6}, 6},
		{conferencing.PasscodePolicy{Policy: conferencing.PasscodeRequired, Length: 12}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.policy.Policy+strconv.Itoa(tt.want), func(t *testing.T) {
			t.Parallel()
			box := newBox(t)
			s := templateSettings(t, "https://meet.contoso.example/{conference_id}", 7, tt.policy)
			p := conferencing.NewTemplate(s, box)
			seen := map[string]bool{}
			for i := range 20 {
				meeting := "m" + strconv.Itoa(i)
				c, err := p.NewConference(context.Background(), request(meeting))
				if err != nil {
					t.Fatal(err)
				}
				d, err := p.Details(context.Background(), c)
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Passcode) != tt.want || strings.Trim(d.Passcode, "0123456789") != "" {
					t.Fatalf("passcode %q: want %d digits", d.Passcode, tt.want)
				}
				if tt.want == 0 {
					if len(c.SealedPasscode) != 0 {
						t.Errorf("sealed passcode %x without a policy", c.SealedPasscode)
					}
					continue
				}
				seen[d.Passcode] = true
				if bytes.Contains(c.SealedPasscode, []byte(d.Passcode)) {
					t.Errorf("sealed passcode %x holds the passcode %s in the clear", c.SealedPasscode, d.Passcode)
				}
				if got, err := box.Open(c.SealedPasscode, "passcode:"+meeting); err != nil || string(got) != d.Passcode {
					t.Errorf("Open = %q, %v; want %q", got, err, d.Passcode)
				}
				if _, err := box.Open(c.SealedPasscode, "passcode:other"); err == nil {
					t.Error("the sealed passcode opens for another meeting")
				}
			}
			if tt.want >= 6 && len(seen) < 19 {
				t.Errorf("%d distinct passcodes in 20 conferences", len(seen))
			}
		})
	}
}

func TestTemplateDetails(t *testing.T) {
	t.Parallel()
	s := conferencing.SandboxSettings("http://localhost:8080")
	p := conferencing.NewTemplate(s, newBox(t))
	c, err := p.NewConference(context.Background(), request("m1"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.Details(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if d.JoinURL != "http://localhost:8080/join/"+c.ConferenceID || d.ConferenceID != c.ConferenceID || d.DialInURL != "http://localhost:8080/dialin" {
		t.Errorf("details = %+v", d)
	}
	if len(d.DialIn) != len(s.DialIn.Numbers) || d.DialIn[1] != (scheduler.DialIn{Region: "United States", Number: "+1 800-555-0199", Language: "en-US", TollFree: true}) {
		t.Errorf("dial-in = %+v", d.DialIn)
	}
	c.MeetingID = "moved" // a passcode sealed for another record does not open
	if _, err := p.Details(context.Background(), c); err == nil {
		t.Error("Details opened a passcode sealed for another meeting")
	}
}

func TestTemplateJoinURLEscaping(t *testing.T) {
	t.Parallel()
	const tmpl = "https://meet.contoso.example/{sip_domain}/{sip_user}/{conference_id}?room={room}&u={sip_user}#{sip_user}"
	s := templateSettings(t, tmpl, 7, conferencing.PasscodePolicy{Policy: conferencing.PasscodeNone})
	p := conferencing.NewTemplate(s, newBox(t))
	tests := []struct{ sip, wantUser, wantDomain string }{
		{"adele.vance@sip.contoso.example", "adele.vance", "sip.contoso.example"},
		{"a/b?c#d e&f=g+h%i@sip.contoso.example", "a/b?c#d e&f=g+h%i", "sip.contoso.example"},
		{"ünïcode@例え.example", "ünïcode", "例え.example"},
		{"../..@contoso.example", "../..", "contoso.example"},
		{"..@contoso.example", "..", "contoso.example"},
	}
	for _, tt := range tests {
		req := request("m1")
		req.Organizer.SIPAddress = tt.sip
		c, err := p.NewConference(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(c.JoinURL)
		if err != nil {
			t.Fatalf("join URL %q: %v", c.JoinURL, err)
		}
		segs := strings.Split(u.EscapedPath(), "/")
		if len(segs) != 4 || u.Host != "meet.contoso.example" {
			t.Fatalf("join URL %q: path segments %q, want 3", c.JoinURL, segs[1:])
		}
		user, _ := url.PathUnescape(segs[2])
		domain, _ := url.PathUnescape(segs[1])
		q := u.Query()
		if user != tt.wantUser || domain != tt.wantDomain || segs[3] != c.ConferenceID || segs[2] == "." || segs[2] == ".." {
			t.Errorf("join URL %q: user %q, domain %q", c.JoinURL, user, domain)
		}
		if len(q) != 2 || q.Get("room") != c.Room || q.Get("u") != tt.wantUser || u.Fragment != tt.wantUser {
			t.Errorf("join URL %q: query %v, fragment %q", c.JoinURL, q, u.Fragment)
		}
	}
}

func TestTemplateSIPFallback(t *testing.T) {
	t.Parallel()
	s := templateSettings(t, "https://meet.contoso.example/{sip_domain}/{sip_user}/{conference_id}", 7, conferencing.PasscodePolicy{Policy: conferencing.PasscodeNone})
	p := conferencing.NewTemplate(s, newBox(t))
	tests := []struct {
		name    string
		proxies []string
		mail    string
		want    string // user/domain in the URL; "" for an invalid_request error
	}{
		{"SIP", []string{"SMTP:adele@contoso.example", "SIP:adele.sip@sip.contoso.example"}, "", "sip.contoso.example/adele.sip"},
		{"secondary SIP", []string{"SMTP:adele@contoso.example", "sip:adele.sip@sip.contoso.example"}, "", "sip.contoso.example/adele.sip"},
		{"primary SMTP", []string{"smtp:old@contoso.example", "SMTP:adele@contoso.example", "X500:/o=Contoso/cn=adele"}, "", "contoso.example/adele"},
		{"mail", nil, "adele@mail.contoso.example", "mail.contoso.example/adele"},
		{"no address", []string{"X500:/o=Contoso/cn=adele"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := request("m1")
			req.Organizer = scheduler.NewProfile("oid", "Adele", "", "", tt.mail, "", "", tt.proxies)
			c, err := p.NewConference(context.Background(), req)
			if tt.want == "" {
				if scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
					t.Fatalf("NewConference = %+v, %v; want invalid_request", c, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := "https://meet.contoso.example/" + tt.want + "/" + c.ConferenceID; c.JoinURL != want {
				t.Errorf("join URL = %q, want %q", c.JoinURL, want)
			}
		})
	}
	// A template without SIP placeholders needs no address.
	roomOnly := conferencing.NewTemplate(templateSettings(t, "https://meet.contoso.example/{room}", 7, conferencing.PasscodePolicy{Policy: conferencing.PasscodeNone}), newBox(t))
	req := request("m1")
	req.Organizer = scheduler.Profile{}
	if _, err := roomOnly.NewConference(context.Background(), req); err != nil {
		t.Errorf("NewConference without addresses: %v", err)
	}
}

func TestTemplateOptions(t *testing.T) {
	t.Parallel()
	box := newBox(t)
	p := conferencing.NewTemplate(conferencing.SandboxSettings("http://localhost:8080"), box)
	ctx := context.Background()

	// Empty options take the defaults.
	c, err := p.NewConference(ctx, request("m1"))
	if err != nil {
		t.Fatal(err)
	}
	// Options stay in memory: the meeting service seals them as it stores
	// (its tests check the stored record).
	want := scheduler.MeetingOptions{Lobby: "company", Presenters: "everyone"}
	if !equalOptions(c.Options, want) || len(c.SealedOptions) != 0 {
		t.Errorf("options = %+v (sealed %x), want %+v and nothing sealed", c.Options, c.SealedOptions, want)
	}

	// Invalid options and times are refused before anything is made.
	bad := request("m2")
	bad.Options = scheduler.MeetingOptions{Lobby: "nobody"}
	if _, err := p.NewConference(ctx, bad); scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
		t.Errorf("NewConference with a bad lobby: %v", err)
	}
	bad = request("m2")
	bad.End = bad.Start
	if _, err := p.NewConference(ctx, bad); scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
		t.Errorf("NewConference ending at its start: %v", err)
	}
	if _, err := p.NewConference(ctx, request("")); err == nil {
		t.Error("NewConference without a meeting ID")
	}

	// An update replaces options and times, keeps the rest.
	upd := request("m1")
	upd.Start, upd.End = start.Add(24*time.Hour), end.Add(25*time.Hour)
	upd.Options = scheduler.MeetingOptions{Lobby: "organizer", Presenters: "named", PresenterList: []string{"alex@contoso.example"}, PhoneBypass: true}
	u, err := p.UpdateConference(ctx, c, upd)
	if err != nil {
		t.Fatal(err)
	}
	if !equalOptions(u.Options, upd.Options) || len(u.SealedOptions) != 0 {
		t.Errorf("updated options = %+v (sealed %x); want %+v and nothing sealed", u.Options, u.SealedOptions, upd.Options)
	}
	if !u.Start.Equal(upd.Start) || !u.End.Equal(upd.End) || u.ConferenceID != c.ConferenceID || u.Room != c.Room ||
		u.JoinURL != c.JoinURL || !bytes.Equal(u.SealedPasscode, c.SealedPasscode) || u.Updated.Before(c.Updated) {
		t.Errorf("updated = %+v, was %+v", u, c)
	}
	// Zero times keep the stored ones.
	upd = request("m1")
	upd.Start, upd.End = time.Time{}, time.Time{}
	if u2, err := p.UpdateConference(ctx, u, upd); err != nil || !u2.Start.Equal(u.Start) || !u2.End.Equal(u.End) {
		t.Errorf("update without times = %+v, %v", u2, err)
	}
	upd.Options.Presenters = "named"
	if _, err := p.UpdateConference(ctx, u, upd); scheduler.ErrorCode(err) != scheduler.ECodeInvalid {
		t.Errorf("update with named presenters and no list: %v", err)
	}
	if err := p.FreeConference(ctx, u, upd.Principal); err != nil {
		t.Errorf("FreeConference = %v", err)
	}
}

func equalOptions(a, b scheduler.MeetingOptions) bool {
	return a.Lobby == b.Lobby && a.Presenters == b.Presenters && a.PhoneBypass == b.PhoneBypass && slices.Equal(a.PresenterList, b.PresenterList)
}
