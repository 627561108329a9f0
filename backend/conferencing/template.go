package conferencing

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"time"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// Template allocates conferences on a self-hosted conferencing system that
// needs no call to create one, as Lync Server's did: the conference ID is
// random, the room and join URL come from the admin's templates, and the
// record in our store (written by the caller) is the conference. Systems
// such as Jitsi find it again through the Jitsi directory.
type Template struct {
	s   Settings
	box *secret.Box
	// idPrefix fixes the first digits of conference IDs. Only tests set
	// it, to shrink the ID space until conflicts are common.
	idPrefix string
}

var _ scheduler.Provider = (*Template)(nil)

// NewTemplate returns the template provider for valid settings; box seals
// passcodes. Options stay in memory: the caller seals them as it stores.
func NewTemplate(s Settings, box *secret.Box) *Template {
	return &Template{s: s, box: box}
}

// Name returns ProviderTemplate.
func (t *Template) Name() string { return ProviderTemplate }

// NewConference picks a random conference ID (never the next in a
// sequence, so IDs cannot be guessed from one another and replicas do not
// race for the same one) and builds the room and join URL from it. It
// stores nothing: the caller stores the conference and, when the store
// reports a conflict, asks again for another random ID.
func (t *Template) NewConference(_ context.Context, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	if req.MeetingID == "" {
		return scheduler.Conference{}, errors.New("conferencing: request without meeting ID")
	}
	opts, err := checkRequest(req)
	if err != nil {
		return scheduler.Conference{}, err
	}
	tmpl := t.s.Template
	sipUser, sipDomain := scheduler.SplitAddress(cmp.Or(req.Organizer.SIPAddress, req.Organizer.PrimarySMTP))
	if sipUser == "" && (strings.Contains(tmpl.JoinURL, PlaceholderSIPUser) || strings.Contains(tmpl.JoinURL, PlaceholderSIPDomain)) {
		return scheduler.Conference{}, scheduler.Errorf(scheduler.ECodeInvalid,
			"Your account has no SIP or e-mail address, which the join link of your meetings needs. Ask your administrator.")
	}
	id := t.idPrefix + randomDigits(tmpl.ConferenceIDLength-len(t.idPrefix), t.idPrefix == "")
	room := strings.ReplaceAll(tmpl.Room, PlaceholderConferenceID, id)
	now := time.Now().UTC()
	c := scheduler.Conference{
		MeetingID:    req.MeetingID,
		ConferenceID: id,
		Provider:     ProviderTemplate,
		Room:         room,
		JoinURL:      renderJoinURL(tmpl.JoinURL, joinValues{sipUser: sipUser, sipDomain: sipDomain, conferenceID: id, room: room}),
		OrganizerOID: req.Principal.OID,
		TID:          req.Principal.TID,
		Start:        req.Start,
		End:          req.End,
		Created:      now,
		Updated:      now,
		Options:      opts,
	}
	if tmpl.Passcode.Policy != PasscodeNone {
		c.SealedPasscode = sealPasscode(t.box, req.MeetingID, randomDigits(tmpl.Passcode.Length, false))
	}
	return c, nil
}

// Details opens the passcode and adds the configured dial-in numbers.
func (t *Template) Details(_ context.Context, c scheduler.Conference) (scheduler.JoinDetails, error) {
	return details(t.s, t.box, c)
}

// UpdateConference applies new options and times to the record; the
// conferencing system reads them from the store, so nothing else changes.
func (t *Template) UpdateConference(_ context.Context, c scheduler.Conference, req scheduler.ConferenceRequest) (scheduler.Conference, error) {
	return updateRecord(c, req)
}

// FreeConference has nothing to release: the caller deletes the record,
// which frees the conference ID and room.
func (t *Template) FreeConference(context.Context, scheduler.Conference, scheduler.Principal) error {
	return nil
}

// joinValues are what join URL placeholders stand for.
type joinValues struct {
	sipUser, sipDomain, conferenceID, room string
}

// renderJoinURL fills the placeholders, each escaped so that no value can
// end a path segment, start a query or fragment, or add a parameter.
func renderJoinURL(tmpl string, v joinValues) string {
	return strings.NewReplacer(
		PlaceholderSIPUser, escape(v.sipUser),
		PlaceholderSIPDomain, escape(v.sipDomain),
		PlaceholderConferenceID, escape(v.conferenceID),
		PlaceholderRoom, escape(v.room),
	).Replace(tmpl)
}

// escape percent-encodes every byte but RFC 3986's unreserved characters,
// which is safe in a path segment, a query value and a fragment alike
// (url.PathEscape leaves '&' and '=', url.QueryEscape turns ' ' into '+').
// "." and ".." are encoded too, or they would be dot segments of the path.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	dots := s == "." || s == ".."
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '~' || c == '.' && !dots {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// randomDigits returns n uniformly random decimal digits from crypto/rand;
// the first is non-zero when nonZeroFirst, so the ID keeps its length as a
// number (Jitsi and phone systems treat IDs as numbers).
func randomDigits(n int, nonZeroFirst bool) string {
	out := make([]byte, 0, n)
	var buf [32]byte
	for len(out) < n {
		rand.Read(buf[:]) // never fails (crypto/rand)
		for _, x := range buf {
			if x >= 250 || len(out) == n { // 250 = 25*10: keeps digits uniform
				continue
			}
			d := x % 10
			if d == 0 && nonZeroFirst && len(out) == 0 {
				continue
			}
			out = append(out, '0'+d)
		}
	}
	return string(out)
}
