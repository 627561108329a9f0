package emugraph_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// The directory pages with $skiptoken: following nextLink lists everyone
// once.
func TestUsersPaging(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		app := appOnly("User.Read.All")
		var ids []string
		next := e.base + "/users?$select=id&$top=2"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("paging does not end")
			}
			page := e.call(http.MethodGet, next, app, nil).must(t, http.StatusOK).json
			for _, u := range page["value"].([]any) {
				ids = append(ids, u.(map[string]any)["id"].(string))
			}
			next, _ = page["@odata.nextLink"].(string)
		}
		if !slices.Equal(ids, []string{adeleID, alexID, meganID}) {
			t.Fatalf("paged users = %v", ids)
		}
		if r := e.call(http.MethodGet, "/users?$skiptoken=x", app, nil); r.status != http.StatusBadRequest {
			t.Errorf("bad $skiptoken: %d", r.status)
		}
	})
}

// calendarView/delta: a baseline, then exactly what changed, moved out or
// was deleted since, through the link each answer gives.
func TestCalendarDelta(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		app := appOnly("Calendars.ReadWrite")
		now := time.Now().UTC().Truncate(time.Hour)
		seed := func(subject string, start time.Time) string {
			raw, _ := json.Marshal(map[string]any{
				"subject": subject,
				"start":   map[string]string{"dateTime": start.Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
				"end":     map[string]string{"dateTime": start.Add(time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
			})
			id, err := e.srv.AddEvent("megan.bowen@contoso.example", raw)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		a, b, c := seed("a", now.Add(24*time.Hour)), seed("b", now.Add(48*time.Hour)), seed("c", now.Add(72*time.Hour))
		q := url.Values{"startDateTime": {now.Format(time.RFC3339)}, "endDateTime": {now.Add(7 * 24 * time.Hour).Format(time.RFC3339)}}
		changes := func(link string) (ids, removed []string, next string) {
			t.Helper()
			page := e.call(http.MethodGet, link, app, nil).must(t, http.StatusOK).json
			for _, v := range page["value"].([]any) {
				ev := v.(map[string]any)
				if _, gone := ev["@removed"]; gone {
					removed = append(removed, ev["id"].(string))
				} else {
					ids = append(ids, ev["id"].(string))
				}
			}
			return ids, removed, page["@odata.deltaLink"].(string)
		}
		ids, _, link := changes(e.base + "/users/" + meganID + "/calendarView/delta()?" + q.Encode())
		if len(ids) != 3 {
			t.Fatalf("baseline = %v", ids)
		}
		if ids, removed, _ := changes(link); len(ids)+len(removed) != 0 {
			t.Fatalf("no change, yet %v %v", ids, removed)
		}
		if err := e.srv.SetEventBody("megan.bowen@contoso.example", a, "html", "<p>edited</p>"); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.MoveEvent("megan.bowen@contoso.example", b, now.Add(30*24*time.Hour), now.Add(30*24*time.Hour+time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := e.srv.RemoveEvent("megan.bowen@contoso.example", c); err != nil {
			t.Fatal(err)
		}
		ids, removed, _ := changes(link)
		slices.Sort(removed)
		want := []string{b, c}
		slices.Sort(want)
		if !slices.Equal(ids, []string{a}) || !slices.Equal(removed, want) {
			t.Fatalf("changes = %v, removed %v (want %v removed)", ids, removed, want)
		}
		if r := e.call(http.MethodGet, "/users/"+meganID+"/calendarView/delta?$deltatoken=%25%25", app, nil); r.status != http.StatusBadRequest {
			t.Errorf("bad token: %d", r.status)
		}
		if r := e.call(http.MethodGet, "/users/"+meganID+"/calendarView/delta?"+q.Encode(), appOnly("User.Read.All"), nil); r.status != http.StatusForbidden {
			t.Errorf("delta without a calendar permission: %d", r.status)
		}
	})
}
