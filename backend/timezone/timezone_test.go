package timezone

import (
	"errors"
	"testing"
	"time"
)

func TestIANA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"W. Europe Standard Time", "Europe/Berlin"},
		{"Pacific Standard Time", "America/Los_Angeles"},
		{"Eastern Standard Time", "America/New_York"},
		{"India Standard Time", "Asia/Calcutta"},
		{"Newfoundland Standard Time", "America/St_Johns"},
		{"Tokyo Standard Time", "Asia/Tokyo"},
		{"UTC", "Etc/UTC"},
		{"w. europe standard time", "Europe/Berlin"}, // Exchange is not consistent about case
		{"Europe/Paris", "Europe/Paris"},             // Graph also speaks IANA
		{" Asia/Kolkata ", "Asia/Kolkata"},
	} {
		if got, err := IANA(tc.in); err != nil || got != tc.want {
			t.Errorf("IANA(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "Local", "Mars Standard Time", "tzone://Microsoft/Custom", "../etc/passwd"} {
		if _, err := IANA(bad); !errors.Is(err, ErrUnknown) {
			t.Errorf("IANA(%q) = %v, want ErrUnknown", bad, err)
		}
	}
}

// Every zone CLDR names must load from the embedded zone rules, links
// such as Asia/Calcutta included.
func TestEveryMappedZoneLoads(t *testing.T) {
	t.Parallel()
	zones := Zones()
	if len(zones) < 130 {
		t.Fatalf("only %d zones in the CLDR table", len(zones))
	}
	for _, z := range zones {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("%s: %v", z, err)
		}
	}
}

const layout = "2006-01-02T15:04"

// DST edges in the zones people meet across: the spring-forward gap is
// refused, a repeated hour reads as its first pass, half-hour zones and
// zones without DST keep their offsets.
func TestParseLocalDSTEdges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		zone, local, wantUTC string // wantUTC "" means skipped
	}{
		{"W. Europe Standard Time", "2027-03-28T01:30", "2027-03-28T00:30"},
		{"W. Europe Standard Time", "2027-03-28T02:30", ""},
		{"W. Europe Standard Time", "2027-03-28T03:30", "2027-03-28T01:30"},
		{"W. Europe Standard Time", "2027-10-31T02:30", "2027-10-31T00:30"}, // CEST, the first pass
		{"Eastern Standard Time", "2027-03-14T01:30", "2027-03-14T06:30"},
		{"Eastern Standard Time", "2027-03-14T02:30", ""},
		{"Eastern Standard Time", "2027-03-14T03:30", "2027-03-14T07:30"},
		{"Eastern Standard Time", "2027-11-07T01:30", "2027-11-07T05:30"}, // EDT, the first pass
		{"Newfoundland Standard Time", "2027-03-14T01:30", "2027-03-14T05:00"},
		{"Newfoundland Standard Time", "2027-03-14T02:30", ""},
		{"Newfoundland Standard Time", "2027-03-14T03:30", "2027-03-14T06:00"},
		{"India Standard Time", "2027-03-28T09:00", "2027-03-28T03:30"},
		{"India Standard Time", "2027-03-28T02:30", "2027-03-27T21:00"},
		{"Tokyo Standard Time", "2027-03-14T02:30", "2027-03-13T17:30"},
		{"UTC", "2027-03-28T02:30", "2027-03-28T02:30"},
	} {
		loc, err := Load(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseLocal(layout, tc.local, loc)
		if tc.wantUTC == "" {
			if !errors.Is(err, ErrSkipped) {
				t.Errorf("%s %s = %v, %v; want ErrSkipped", tc.zone, tc.local, got, err)
			}
			continue
		}
		if err != nil || got.UTC().Format(layout) != tc.wantUTC || got.Format(layout) != tc.local {
			t.Errorf("%s %s = %v, %v; want %s UTC", tc.zone, tc.local, got, err, tc.wantUTC)
		}
	}
}

// A meeting from 01:30 to 03:30 on the day the clocks go forward lasts one
// hour, in Europe and in North America alike.
func TestMeetingAcrossSpringForward(t *testing.T) {
	t.Parallel()
	for zone, day := range map[string]string{"Romance Standard Time": "2027-03-28", "Pacific Standard Time": "2027-03-14", "Newfoundland Standard Time": "2027-03-14"} {
		loc, _ := Load(zone)
		start, err1 := ParseLocal(layout, day+"T01:30", loc)
		end, err2 := ParseLocal(layout, day+"T03:30", loc)
		if err1 != nil || err2 != nil || end.Sub(start) != time.Hour {
			t.Errorf("%s: %v to %v (%v, %v), want one hour", zone, start, end, err1, err2)
		}
	}
}

func TestParseLocalRejectsGarbage(t *testing.T) {
	t.Parallel()
	if _, err := ParseLocal(layout, "2027-02-30T10:00", time.UTC); err == nil {
		t.Fatal("February 30th accepted")
	}
}
