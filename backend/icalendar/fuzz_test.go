package icalendar

import (
	"bytes"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/timezone"
)

// FuzzEncode exports meetings whose text comes from people (subject,
// names, addresses, join text) and reads the file back. Whatever the text,
// the export stays one event with exactly the attendees given: no line
// break, colon or semicolon in a value can inject a property, an attendee
// or a second event.
func FuzzEncode(f *testing.F) {
	f.Add("Plan; review, \"Q3\"", "Vance, Adele", "adele.vance@contoso.example", "Alex", "alex@contoso.example",
		"Join: https://meet.contoso.example/1\r\nConference ID: 1", "Europe/Berlin")
	f.Add("x\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT\r\nBEGIN:VEVENT", "a\nORGANIZER:mailto:x@y", "o@x",
		"b;ROLE=CHAIR", "c@x\r\nATTENDEE:mailto:d@x", "\\n\\\\;,:", "America/New_York")
	f.Add("", "", "", "", "", "", "UTC")
	start := time.Date(2027, 3, 28, 0, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, subject, orgName, orgAddr, attName, attAddr, description, zone string) {
		loc, err := timezone.Load(zone)
		if err != nil {
			loc = time.UTC
		}
		e := Event{
			UID: "m1@webscheduler.example", Subject: subject, Start: start, End: start.Add(time.Hour), Zone: loc,
			Organizer: scheduler.Attendee{Name: orgName, Address: orgAddr},
			Attendees: []scheduler.Attendee{{Name: attName, Address: attAddr, Type: "required"}, {Address: "guest@fabrikam.example"}},
			JoinURL:   "https://meet.contoso.example/1234567", Description: description, Stamp: start,
		}
		data := Encode(e)
		cal, err := ics.ParseCalendar(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the export does not parse: %v\n%s", err, data)
		}
		evs := cal.Events()
		if len(evs) != 1 {
			t.Fatalf("%d events in the export:\n%s", len(evs), data)
		}
		if n := len(evs[0].Attendees()); n != 2 {
			t.Fatalf("%d attendees in the export, want 2:\n%s", n, data)
		}
		for _, name := range []ics.ComponentProperty{ics.ComponentPropertyOrganizer, ics.ComponentPropertySummary, ics.ComponentPropertyDescription} {
			if n := count(evs[0], name); n > 1 {
				t.Fatalf("%d %s properties:\n%s", n, name, data)
			}
		}
		if got := prop(&evs[0].ComponentBase, ics.ComponentPropertySummary); strings.TrimSpace(clean(subject)) != "" && got == "" {
			t.Fatalf("the subject %q was lost:\n%s", subject, data)
		}
	})
}

func count(ev *ics.VEvent, name ics.ComponentProperty) int {
	n := 0
	for _, p := range ev.Properties {
		if p.IANAToken == string(name) {
			n++
		}
	}
	return n
}
