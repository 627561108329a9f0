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

func sample(zone string, start, end time.Time) Event {
	loc, err := timezone.Load(zone)
	if err != nil {
		panic(err)
	}
	return Event{
		UID: "m1@webscheduler.example", Subject: "Plan; review, \"Q3\"", Start: start, End: end, Zone: loc,
		Organizer: scheduler.Attendee{Name: "Vance, Adele", Address: "adele.vance@contoso.example"},
		Attendees: []scheduler.Attendee{
			{Name: "Alex Wilber", Address: "alex.wilber@contoso.example", Type: "required"},
			{Address: "guest@fabrikam.example", Type: "optional"},
		},
		JoinURL:     "https://meet.contoso.example/adele/1234567?room=a;b",
		Description: "Join: https://meet.contoso.example/adele/1234567\r\nConference ID: 1234567, passcode 42;\nTel: +1 206-555-0100",
		Stamp:       time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC),
	}
}

func parse(t *testing.T, data []byte) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	evs := cal.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	return cal, evs[0]
}

func prop(c *ics.ComponentBase, name ics.ComponentProperty) string {
	if p := c.GetProperty(name); p != nil {
		return p.Value
	}
	return ""
}

type observance struct{ kind, start, from, to string }

func observances(cal *ics.Calendar) []observance {
	var out []observance
	for _, tz := range cal.Timezones() {
		for _, c := range tz.Components {
			var base *ics.ComponentBase
			kind := ""
			switch x := c.(type) {
			case *ics.Standard:
				base, kind = &x.ComponentBase, "STANDARD"
			case *ics.Daylight:
				base, kind = &x.ComponentBase, "DAYLIGHT"
			default:
				continue
			}
			out = append(out, observance{kind, prop(base, ics.ComponentPropertyDtStart),
				prop(base, ics.ComponentProperty(ics.PropertyTzoffsetfrom)), prop(base, ics.ComponentProperty(ics.PropertyTzoffsetto))})
		}
	}
	return out
}

func TestRoundTripAndFields(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 6, 1, 7, 0, 0, 0, time.UTC)
	data := Encode(sample("W. Europe Standard Time", start, start.Add(time.Hour)))
	for _, line := range strings.Split(string(data), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line longer than 75 octets: %q", line)
		}
	}
	cal, ev := parse(t, data)
	if s, _ := ev.GetStartAt(); !s.Equal(start) {
		t.Errorf("start %v, want %v", s, start)
	}
	if e, _ := ev.GetEndAt(); !e.Equal(start.Add(time.Hour)) {
		t.Errorf("end %v", e)
	}
	if p := ev.GetProperty(ics.ComponentPropertyDtStart); p.ICalParameters["TZID"][0] != "Europe/Berlin" || p.Value != "20270601T090000" {
		t.Errorf("DTSTART %+v", p)
	}
	if tz := cal.Timezones(); len(tz) != 1 || prop(&tz[0].ComponentBase, ics.ComponentPropertyTzid) != "Europe/Berlin" {
		t.Fatalf("VTIMEZONE %+v", tz)
	}
	if got := ics.FromText(prop(&ev.ComponentBase, ics.ComponentPropertySummary)); got != `Plan; review, "Q3"` {
		t.Errorf("SUMMARY %q", got)
	}
	if got := ics.FromText(prop(&ev.ComponentBase, ics.ComponentPropertyDescription)); !strings.Contains(got, "1234567, passcode 42;\nTel:") || strings.Contains(got, "\r") {
		t.Errorf("DESCRIPTION %q", got)
	}
	if got := prop(&ev.ComponentBase, ics.ComponentPropertyUrl); got != "https://meet.contoso.example/adele/1234567?room=a;b" {
		t.Errorf("URL %q", got)
	}
	org := ev.GetProperty(ics.ComponentPropertyOrganizer)
	if org.Value != "mailto:adele.vance@contoso.example" || org.ICalParameters["CN"][0] != "Vance Adele" {
		t.Errorf("ORGANIZER %+v", org)
	}
	var emails []string
	for _, a := range ev.Attendees() {
		emails = append(emails, a.Email()+"/"+a.ICalParameters["ROLE"][0])
	}
	if strings.Join(emails, " ") != "alex.wilber@contoso.example/REQ-PARTICIPANT guest@fabrikam.example/OPT-PARTICIPANT" {
		t.Errorf("attendees %v", emails)
	}
	if m := cal.CalendarProperties; !strings.Contains(cal.Serialize(), "METHOD:PUBLISH") || len(m) == 0 {
		t.Error("no METHOD:PUBLISH")
	}
}

// The VTIMEZONE carries the transitions the meeting spans, with onsets in
// the local time before each change, and the times read back exactly.
func TestDSTEdges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, zone  string
		start, end  time.Time
		first, want observance // the observance in force at the start, and one that must follow
	}{
		{"Europe spring forward", "W. Europe Standard Time", time.Date(2027, 3, 28, 0, 30, 0, 0, time.UTC), time.Date(2027, 3, 28, 1, 30, 0, 0, time.UTC),
			observance{"STANDARD", "20261025T030000", "+0200", "+0100"}, observance{"DAYLIGHT", "20270328T020000", "+0100", "+0200"}},
		{"North America spring forward", "Eastern Standard Time", time.Date(2027, 3, 14, 6, 30, 0, 0, time.UTC), time.Date(2027, 3, 14, 7, 30, 0, 0, time.UTC),
			observance{"STANDARD", "20261101T020000", "-0400", "-0500"}, observance{"DAYLIGHT", "20270314T020000", "-0500", "-0400"}},
		{"Newfoundland half hour", "Newfoundland Standard Time", time.Date(2027, 3, 14, 5, 0, 0, 0, time.UTC), time.Date(2027, 3, 14, 6, 0, 0, 0, time.UTC),
			observance{"STANDARD", "20261101T020000", "-0230", "-0330"}, observance{"DAYLIGHT", "20270314T020000", "-0330", "-0230"}},
		{"India half hour, no DST", "India Standard Time", time.Date(2027, 3, 28, 3, 30, 0, 0, time.UTC), time.Date(2027, 3, 28, 4, 30, 0, 0, time.UTC),
			observance{"STANDARD", "19451015T000000", "+0630", "+0530"}, observance{}},
		{"Tokyo, no DST", "Tokyo Standard Time", time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC), time.Date(2027, 3, 28, 1, 0, 0, 0, time.UTC),
			observance{"STANDARD", "19510909T010000", "+1000", "+0900"}, observance{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cal, ev := parse(t, Encode(sample(tc.zone, tc.start, tc.end)))
			s, err1 := ev.GetStartAt()
			e, err2 := ev.GetEndAt()
			if err1 != nil || err2 != nil || !s.Equal(tc.start) || !e.Equal(tc.end) {
				t.Fatalf("read back %v–%v (%v, %v), want %v–%v", s, e, err1, err2, tc.start, tc.end)
			}
			obs := observances(cal)
			if len(obs) == 0 || obs[0] != tc.first {
				t.Fatalf("observances %+v, first want %+v", obs, tc.first)
			}
			if tc.want != (observance{}) && (len(obs) < 2 || obs[1] != tc.want) {
				t.Errorf("observances %+v, want %+v next", obs, tc.want)
			}
			if tc.want == (observance{}) && len(obs) != 1 {
				t.Errorf("a zone without DST has %d observances", len(obs))
			}
		})
	}
}

// The second pass of a repeated hour cannot be written as local time with
// a TZID (clients read the first pass): it goes out in UTC.
func TestRepeatedHourInUTC(t *testing.T) {
	t.Parallel()
	second := time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC) // 02:30 CET, after 02:30 CEST
	_, ev := parse(t, Encode(sample("W. Europe Standard Time", second, second.Add(time.Hour))))
	if p := ev.GetProperty(ics.ComponentPropertyDtStart); p.Value != "20271031T013000Z" || len(p.ICalParameters["TZID"]) != 0 {
		t.Errorf("DTSTART %+v", p)
	}
	if s, _ := ev.GetStartAt(); !s.Equal(second) {
		t.Errorf("start %v", s)
	}
}

func TestUTCHasNoVTimezone(t *testing.T) {
	t.Parallel()
	start := time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC)
	e := sample("UTC", start, start.Add(time.Hour))
	e.Zone = nil
	cal, ev := parse(t, Encode(e))
	if len(cal.Timezones()) != 0 || prop(&ev.ComponentBase, ics.ComponentPropertyDtStart) != "20270101T090000Z" {
		t.Errorf("UTC export: %s", cal.Serialize())
	}
}
