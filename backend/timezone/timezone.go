// Package timezone turns the time zone names Exchange and Graph use
// (Windows names such as "W. Europe Standard Time", or IANA names) into
// Go locations, and reads local times the way a calendar user means them.
//
// The Windows-to-IANA table is CLDR's windowsZones mapping, embedded
// unchanged from the cldr-core npm package 48.2.0
// (supplemental/windowsZones.json, CLDR 48, Unicode License v3 in
// cldr/LICENSE): nothing is fetched at run time.
package timezone

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the zone rules ship with the binary, whatever the image has
)

//go:embed cldr/windowsZones.json
var windowsZonesJSON []byte

// windows maps each Windows zone name to CLDR's world-wide ("001") IANA zone.
var windows = mustParse(windowsZonesJSON)

func mustParse(data []byte) map[string]string {
	var doc struct {
		Supplemental struct {
			WindowsZones struct {
				MapTimezones []struct {
					MapZone struct {
						Windows   string `json:"_other"`
						IANA      string `json:"_type"`
						Territory string `json:"_territory"`
					} `json:"mapZone"`
				} `json:"mapTimezones"`
			} `json:"windowsZones"`
		} `json:"supplemental"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		panic("timezone: embedded windowsZones.json: " + err.Error())
	}
	m := map[string]string{}
	for _, z := range doc.Supplemental.WindowsZones.MapTimezones {
		if z.MapZone.Territory == "001" {
			m[strings.ToLower(z.MapZone.Windows)] = z.MapZone.IANA
		}
	}
	return m
}

// ErrUnknown is returned for a name that is neither a Windows nor an IANA zone.
var ErrUnknown = errors.New("timezone: unknown time zone")

// IANA returns the IANA name for a Windows zone name; an IANA name comes
// back as it is. Exchange's "UTC" and Graph's custom zones need no lookup
// beyond this table.
func IANA(name string) (string, error) {
	name = strings.TrimSpace(name)
	if iana, ok := windows[strings.ToLower(name)]; ok {
		return iana, nil
	}
	// "Local" would be the server's zone, never the user's.
	if name == "" || name == "Local" {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	return name, nil
}

// Load returns the location for a Windows or IANA zone name.
func Load(name string) (*time.Location, error) {
	iana, err := IANA(name)
	if err != nil {
		return nil, err
	}
	return time.LoadLocation(iana)
}

// Zones lists the IANA zones of the Windows table, sorted: one per Windows
// zone, which is the choice Outlook offers its users.
func Zones() []string {
	out := make([]string, 0, len(windows))
	for _, z := range windows {
		out = append(out, z)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrSkipped is returned for a local time the clocks skip (the hour lost
// when daylight saving time starts).
var ErrSkipped = errors.New("timezone: that local time does not exist: the clocks skip it")

// ParseLocal reads a wall-clock time (layout without a zone) in loc. A
// time inside a spring-forward gap is an error rather than silently moved;
// a repeated time (fall back) is the earlier of the two, as RFC 5545 and
// Outlook read it.
func ParseLocal(layout, value string, loc *time.Location) (time.Time, error) {
	naive, err := time.Parse(layout, value)
	if err != nil {
		return time.Time{}, err
	}
	// Try each offset in force within a day of the wall time, earliest instant first.
	var found []time.Time
	for _, probe := range []time.Duration{-24 * time.Hour, 0, 24 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		t := naive.Add(-time.Duration(off) * time.Second).In(loc)
		if t.Format(layout) == naive.Format(layout) && !slices.ContainsFunc(found, t.Equal) {
			found = append(found, t)
		}
	}
	if len(found) == 0 {
		return time.Time{}, ErrSkipped
	}
	return slices.MinFunc(found, func(a, b time.Time) int { return a.Compare(b) }), nil
}
