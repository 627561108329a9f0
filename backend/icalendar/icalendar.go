// Package icalendar exports a meeting as an RFC 5545 iCalendar object
// through github.com/arran4/golang-ical, with a VTIMEZONE built from the
// zone's own rules so the times mean the same in every client.
package icalendar

import (
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/timezone"
)

// Event is one meeting to export.
type Event struct {
	UID         string
	Subject     string
	Start, End  time.Time
	Zone        *time.Location // written as TZID with a VTIMEZONE; nil or UTC: UTC times
	Organizer   scheduler.Attendee
	Attendees   []scheduler.Attendee
	JoinURL     string // URL and LOCATION
	Description string // the join information as plain text
	Stamp       time.Time
}

const (
	localLayout = "20060102T150405"
	utcLayout   = "20060102T150405Z"
)

// Encode renders e as a VCALENDAR with METHOD:PUBLISH: an export to add
// to a calendar, not an invitation that would ask for replies.
func Encode(e Event) []byte {
	cal := ics.NewCalendarFor("Web Scheduler")
	cal.SetProductId("-//Web Scheduler//Web Scheduler//EN")
	cal.SetMethod(ics.MethodPublish)
	zone := e.Zone
	if zone == nil || zone.String() == "UTC" {
		zone = time.UTC
	} else {
		cal.AddVTimezone(vtimezone(zone, e.Start, e.End.AddDate(1, 0, 0)))
	}
	ev := cal.AddEvent(e.UID)
	ev.SetDtStampTime(e.Stamp)
	setTime(ev, ics.ComponentPropertyDtStart, e.Start, zone)
	setTime(ev, ics.ComponentPropertyDtEnd, e.End, zone)
	ev.SetSummary(clean(e.Subject))
	ev.SetStatus(ics.ObjectStatusConfirmed)
	if e.JoinURL != "" {
		ev.SetURL(noControls(e.JoinURL))
		ev.SetLocation(clean(e.JoinURL))
	}
	if e.Description != "" {
		ev.SetDescription(clean(e.Description))
	}
	if e.Organizer.Address != "" {
		ev.SetOrganizer("mailto:"+noControls(e.Organizer.Address), cn(e.Organizer.Name)...)
	}
	for _, a := range e.Attendees {
		role := ics.ParticipationRoleReqParticipant
		if a.Type == "optional" {
			role = ics.ParticipationRoleOptParticipant
		}
		ev.AddAttendee("mailto:"+noControls(a.Address), append(cn(a.Name), role, ics.ParticipationStatusNeedsAction)...)
	}
	return []byte(cal.Serialize(ics.WithNewLine("\r\n")))
}

// setTime writes a local time with TZID, or UTC when the local time would
// be read back as another instant: RFC 5545 reads a repeated local time as
// its first pass, so the second pass goes out in UTC.
func setTime(ev *ics.VEvent, prop ics.ComponentProperty, t time.Time, zone *time.Location) {
	local := t.In(zone).Format(localLayout)
	if back, err := timezone.ParseLocal(localLayout, local, zone); zone == time.UTC || err != nil || !back.Equal(t) {
		ev.SetProperty(prop, t.UTC().Format(utcLayout))
		return
	}
	ev.SetProperty(prop, local, ics.WithTZID(zone.String()))
}

// vtimezone describes zone's observances from the one in force at from
// until to: a year past the meeting, so clients that expect both a
// standard and a daylight part find them.
func vtimezone(zone *time.Location, from, to time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(zone.String())
	for t := from; ; {
		name, offset := t.In(zone).Zone()
		start, end := t.In(zone).ZoneBounds()
		before := offset
		onset := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
		if !start.IsZero() {
			_, before = start.Add(-time.Second).In(zone).Zone()
			onset = start.UTC().Add(time.Duration(before) * time.Second)
		}
		var part *ics.ComponentBase
		if t.In(zone).IsDST() {
			d := &ics.Daylight{}
			tz.Components = append(tz.Components, d)
			part = &d.ComponentBase
		} else {
			part = &tz.AddStandard().ComponentBase
		}
		part.SetProperty(ics.ComponentPropertyDtStart, onset.Format(localLayout))
		part.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(before))
		part.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(offset))
		part.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
		if end.IsZero() || end.After(to) {
			return tz
		}
		t = end
	}
}

// utcOffset formats seconds east of UTC as RFC 5545's UTC-OFFSET (+hhmm[ss]).
func utcOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	s := sign + twoDigits(sec/3600) + twoDigits(sec/60%60)
	if sec%60 != 0 {
		s += twoDigits(sec % 60)
	}
	return s
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// cn gives a CN parameter for a display name. The library escapes rather
// than quotes parameter values, which RFC 5545 does not define, so the
// characters that would need quoting are dropped from the name.
func cn(name string) []ics.PropertyParameter {
	name = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || strings.ContainsRune(`",;:\`, r) {
			return ' '
		}
		return r
	}, name)), " ")
	if name == "" {
		return nil
	}
	return []ics.PropertyParameter{ics.WithCN(name)}
}

// clean normalises line ends (TEXT carries only \n) and drops other controls.
func clean(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || r >= ' ' && r != 0x7f {
			return r
		}
		return -1
	}, s)
}

// noControls drops every control character from a URI value, which the
// library writes as it is: a line break in an address from the calendar
// would otherwise start a property of its own (an injected attendee).
func noControls(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
