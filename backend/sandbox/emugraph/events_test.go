package emugraph_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestEventCRUD(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		ev := sdkEvent("Let's go brunch", "2024-04-15T11:00:00", "2024-04-15T12:00:00")
		ev["singleValueExtendedProperties"] = []any{map[string]any{"id": confProp, "value": "123456789"}}
		created := e.call(http.MethodPost, "/me/events", adele, ev).must(t, http.StatusCreated)
		c := created.json
		id, _ := c["id"].(string)
		if !strings.HasPrefix(id, "AAMkA") || len(id) < 100 {
			t.Errorf("id %q does not look like an Exchange ID", id)
		}
		if c["@odata.etag"] != `W/"`+c["changeKey"].(string)+`"` || created.header.Get("ETag") != c["@odata.etag"] {
			t.Errorf("etag %v / ETag %q vs changeKey %v", c["@odata.etag"], created.header.Get("ETag"), c["changeKey"])
		}
		if !strings.HasPrefix(created.header.Get("Location"), e.base+"/Users('"+adeleID+"')/Events('") {
			t.Errorf("Location %q", created.header.Get("Location"))
		}
		for path, want := range map[string]any{
			"organizer.emailAddress.address": "Adele.Vance@contoso.example",
			"organizer.emailAddress.name":    "Adele Vance",
			"isOrganizer":                    true,
			"type":                           "singleInstance",
			"start.dateTime":                 "2024-04-15T18:00:00.0000000", // PDT is UTC-7
			"start.timeZone":                 "UTC",
			"originalStartTimeZone":          "Pacific Standard Time",
			"bodyPreview":                    "Let's kick-start this event planning!",
			"body.contentType":               "html",
			"body.content":                   "<html>\r\n<head>\r\n</head>\r\n<body>\r\nLet's kick-start this event planning!\r\n</body>\r\n</html>\r\n",
			"location.displayName":           "Harry's Bar",
			"location.locationType":          "default",
			"locations.0.displayName":        "Harry's Bar",
			"attendees.0.emailAddress.name":  "alex.wilber@contoso.example",
			"attendees.0.status.response":    "none",
			"responseStatus.response":        "organizer",
			"importance":                     "normal",
			"isOnlineMeeting":                false,
		} {
			if got := at(c, path); got != want {
				t.Errorf("%s = %#v, want %#v", path, got, want)
			}
		}
		if ctx := c["@odata.context"]; ctx != e.base+"/$metadata#users('"+adeleID+"')/events/$entity" {
			t.Errorf("@odata.context %v", ctx)
		}
		for _, k := range []string{"iCalUId", "webLink", "createdDateTime", "lastModifiedDateTime"} {
			if s, _ := c[k].(string); s == "" {
				t.Errorf("%s missing", k)
			}
		}
		if _, ok := c["singleValueExtendedProperties"]; ok {
			t.Error("extended properties returned without $expand")
		}

		got := e.call(http.MethodGet, "/users/adele.vance@contoso.example/events/"+url.PathEscape(id), adele, nil).must(t, http.StatusOK)
		if got.json["subject"] != "Let's go brunch" || got.json["changeKey"] != c["changeKey"] {
			t.Errorf("GET by UPN: %s", got.raw)
		}

		patched := e.call(http.MethodPatch, "/me/events/"+id, adele, map[string]any{
			"@odata.type": "#microsoft.graph.event",
			"subject":     "Let's go for lunch",
			"end":         map[string]any{"dateTime": "2024-04-15T13:00:00"},
		}, "If-Match", c["@odata.etag"].(string)).must(t, http.StatusOK)
		if patched.json["changeKey"] == c["changeKey"] || patched.json["subject"] != "Let's go for lunch" {
			t.Errorf("PATCH did not apply or bump changeKey: %s", patched.raw)
		}
		if get(patched.json, "end", "dateTime") != "2024-04-15T20:00:00.0000000" || get(patched.json, "originalEndTimeZone") != "Pacific Standard Time" {
			t.Errorf("PATCH of end.dateTime alone should keep the zone: %v", patched.json["end"])
		}

		pst := e.call(http.MethodGet, "/me/events/"+id, adele, nil,
			"Prefer", `outlook.timezone="Pacific Standard Time", outlook.body-content-type="text"`).must(t, http.StatusOK)
		if get(pst.json, "start", "dateTime") != "2024-04-15T11:00:00.0000000" || get(pst.json, "start", "timeZone") != "Pacific Standard Time" {
			t.Errorf("Prefer outlook.timezone: %v", pst.json["start"])
		}
		if get(pst.json, "body", "contentType") != "text" || get(pst.json, "body", "content") != "Let's kick-start this event planning!" {
			t.Errorf("Prefer text body: %v", pst.json["body"])
		}
		if pa := pst.header.Get("Preference-Applied"); !strings.Contains(pa, `outlook.timezone="Pacific Standard Time"`) || !strings.Contains(pa, `outlook.body-content-type="text"`) {
			t.Errorf("Preference-Applied %q", pa)
		}

		sel := e.call(http.MethodGet, "/me/events/"+id+"?$select=subject,start", adele, nil).must(t, http.StatusOK)
		if len(sel.json) != 5 || sel.json["id"] != id || sel.json["@odata.etag"] == nil || sel.json["start"] == nil {
			t.Errorf("$select should give subject, start, id, @odata.etag, @odata.context: %s", sel.raw)
		}

		e.call(http.MethodDelete, "/me/events/"+id, adele, nil).must(t, http.StatusNoContent)
		if r := e.call(http.MethodGet, "/me/events/"+id, adele, nil).must(t, http.StatusNotFound); r.errorCode() != "ErrorItemNotFound" {
			t.Errorf("after DELETE: %s", r.raw)
		}
		if r := e.call(http.MethodGet, "/me/events/not-an-id", adele, nil).must(t, http.StatusBadRequest); r.errorCode() != "ErrorInvalidIdMalformed" {
			t.Errorf("malformed id: %s", r.raw)
		}
	})
}

const confProp = "String {66f5a359-4659-4830-9070-00047ec6ac6e} Name WebSchedulerConference"

func TestInvalidEventRequests(t *testing.T) {
	t.Parallel()
	valid := func(mutate func(map[string]any)) map[string]any {
		ev := sdkEvent("x", "2024-04-15T11:00:00", "2024-04-15T12:00:00")
		mutate(ev)
		return ev
	}
	tests := []struct {
		name     string
		method   string
		path     string
		body     any
		code     string // "" accepts any Graph code
		specOnly bool   // only the schema catches it
	}{
		{"wrong enum for body contentType", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["body"] = map[string]any{"contentType": "markdown", "content": "x"}
		}), "RequestBodyRead", false},
		{"number where dateTime is expected", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["start"] = map[string]any{"dateTime": 20240415, "timeZone": "UTC"}
		}), "RequestBodyRead", false},
		{"string where int32 is expected", "POST", "/me/events", valid(func(ev map[string]any) { ev["reminderMinutesBeforeStart"] = "15" }), "RequestBodyRead", false},
		{"unknown enum value", "POST", "/me/events", valid(func(ev map[string]any) { ev["importance"] = "urgent" }), "RequestBodyRead", false},
		{"unknown property", "POST", "/me/events", valid(func(ev map[string]any) { ev["colour"] = "green" }), "RequestBodyRead", false},
		{"unknown nested property", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["body"] = map[string]any{"contentType": "html", "content": "x", "charset": "utf-8"}
		}), "RequestBodyRead", true},
		{"wrong @odata.type", "POST", "/me/events", valid(func(ev map[string]any) { ev["@odata.type"] = "#microsoft.graph.message" }), "RequestBodyRead", false},
		{"unknown time zone", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["start"] = map[string]any{"dateTime": "2024-04-15T11:00:00", "timeZone": "Mars Standard Time"}
		}), "TimeZoneNotSupportedException", false},
		{"end before start", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["end"] = map[string]any{"dateTime": "2024-04-15T10:00:00", "timeZone": "Pacific Standard Time"}
		}), "ErrorInvalidRequest", false},
		{"no start", "POST", "/me/events", valid(func(ev map[string]any) { delete(ev, "start") }), "ErrorInvalidRequest", false},
		{"recurrence", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["recurrence"] = map[string]any{"pattern": map[string]any{"type": "daily", "interval": 1}}
		}), "", false},
		{"malformed extended property id", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["singleValueExtendedProperties"] = []any{map[string]any{"id": "Color", "value": "x"}}
		}), "ErrorInvalidProperty", false},
		{"attendee without address", "POST", "/me/events", valid(func(ev map[string]any) {
			ev["attendees"] = []any{map[string]any{"emailAddress": map[string]any{"name": "Nobody"}}}
		}), "ErrorInvalidRecipients", false},
		{"malformed JSON", "POST", "/me/events", `{"subject": `, "", false},
		{"empty body", "POST", "/me/events", "", "", false},
		{"calendarView without startDateTime", "GET", "/me/calendarView?endDateTime=2024-04-16T00:00:00Z", nil, "", false},
		{"negative $top", "GET", "/me/events?$top=-1", nil, "BadRequest", false},
		{"unsupported $filter", "GET", "/me/events?$filter=" + url.QueryEscape("subject eq 'x'"), nil, "ErrorInvalidUrlQueryFilter", false},
		{"unsupported query option", "GET", "/me/events?$search=x", nil, "BadRequest", false},
		{"unknown $select property", "GET", "/me/events?$select=colour", nil, "BadRequest", false},
		{"unfiltered $expand", "GET", "/me/events?$expand=singleValueExtendedProperties", nil, "BadRequest", false},
		{"unknown segment", "GET", "/me/memberOf", nil, "BadRequest", false},
		{"wrong method", "PUT", "/me/events", `{}`, "Request_BadRequest", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			modes(t, func(t *testing.T, e *env) {
				r := e.call(tc.method, tc.path, adele, tc.body)
				if tc.specOnly && !e.withSpec {
					return // the hand-written checks do not reach this deep
				}
				if r.status != http.StatusBadRequest && r.status != http.StatusMethodNotAllowed {
					t.Fatalf("status %d, want 400: %s", r.status, r.raw)
				}
				if tc.code != "" && r.errorCode() != tc.code {
					t.Errorf("code %q, want %q: %s", r.errorCode(), tc.code, r.raw)
				}
			})
		})
	}
}

func TestBodyMustBeJSON(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		ev := sdkEvent("x", "2024-04-15T11:00:00", "2024-04-15T12:00:00")
		if r := e.call(http.MethodPost, "/me/events", adele, ev, "Content-Type", "text/plain"); r.status != http.StatusBadRequest {
			t.Errorf("text/plain body: %d", r.status)
		}
		if r := e.call(http.MethodPost, "/$batch", adele, `{"requests":[]}`, "Content-Type", "text/plain"); r.status != http.StatusBadRequest {
			t.Errorf("text/plain batch: %d", r.status)
		}
	})
}

func TestIfMatch(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		c := e.call(http.MethodPost, "/me/events", adele, sdkEvent("x", "2024-04-15T11:00:00", "2024-04-15T12:00:00")).must(t, http.StatusCreated).json
		id, etag := c["id"].(string), c["@odata.etag"].(string)
		// Another client (Outlook) edits the body: our etag is now stale.
		if err := e.srv.SetEventBody(adeleID, id, "html", "<html><body>Edited in Outlook</body></html>"); err != nil {
			t.Fatal(err)
		}
		for _, method := range []string{http.MethodPatch, http.MethodDelete} {
			r := e.call(method, "/me/events/"+id, adele, `{"subject":"y"}`, "If-Match", etag)
			if method == http.MethodDelete {
				r = e.call(method, "/me/events/"+id, adele, nil, "If-Match", etag)
			}
			if r.status != http.StatusPreconditionFailed || r.errorCode() != "ErrorIrresolvableConflict" {
				t.Errorf("%s with a stale etag: %d %s", method, r.status, r.raw)
			}
		}
		fresh := e.call(http.MethodGet, "/me/events/"+id, adele, nil).must(t, http.StatusOK)
		if get(fresh.json, "body", "content") != "<html><body>Edited in Outlook</body></html>" {
			t.Errorf("SetEventBody: %v", fresh.json["body"])
		}
		e.call(http.MethodPatch, "/me/events/"+id, adele, `{"subject":"y"}`, "If-Match", fresh.json["@odata.etag"].(string)).must(t, http.StatusOK)
	})
}

func TestExtendedPropertyFilterAndExpand(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		ids := map[string]string{}
		for i, v := range []any{"111", "222", nil} {
			ev := sdkEvent(fmt.Sprint("e", i), fmt.Sprintf("2024-04-1%dT09:00:00", i+1), fmt.Sprintf("2024-04-1%dT10:00:00", i+1))
			if v != nil {
				ev["singleValueExtendedProperties"] = []any{map[string]any{"id": confProp, "value": v}}
			}
			ids[fmt.Sprint(v)] = e.call(http.MethodPost, "/me/events", adele, ev).must(t, http.StatusCreated).json["id"].(string)
		}
		list := func(filter string) []string {
			q := url.Values{"$filter": {filter}, "$expand": {"singleValueExtendedProperties($filter=id eq '" + confProp + "')"}}
			r := e.call(http.MethodGet, "/me/events?"+q.Encode(), adele, nil).must(t, http.StatusOK)
			var got []string
			for _, v := range r.json["value"].([]any) {
				got = append(got, fmt.Sprint(get(v, "singleValueExtendedProperties", 0, "value")))
			}
			return got
		}
		eq := func(v string) string {
			return "singleValueExtendedProperties/Any(ep: ep/id eq '" + confProp + "' and ep/value eq '" + v + "')"
		}
		if got := list(eq("222")); fmt.Sprint(got) != "[222]" {
			t.Errorf("eq '222': %v", got)
		}
		if got := list("singleValueExtendedProperties/any(ep: ep/id eq '" + confProp + "' and ep/value ne null)"); fmt.Sprint(got) != "[111 222]" {
			t.Errorf("ne null: %v", got)
		}
		// PATCH upserts by id; the filter sees the new value.
		e.call(http.MethodPatch, "/me/events/"+ids["111"], adele, map[string]any{
			"singleValueExtendedProperties": []any{map[string]any{"id": strings.ToLower(confProp[:6]) + confProp[6:], "value": "333"}},
		}).must(t, http.StatusOK)
		if got := list(eq("333")); fmt.Sprint(got) != "[333]" {
			t.Errorf("after upsert: %v", got)
		}
		one := e.call(http.MethodGet, "/me/events/"+ids["222"]+"?$expand="+url.QueryEscape("singleValueExtendedProperties($filter=id eq '"+confProp+"')"), adele, nil).must(t, http.StatusOK)
		if get(one.json, "singleValueExtendedProperties", 0, "id") != confProp {
			t.Errorf("$expand on GET: %s", one.raw)
		}
		none := e.call(http.MethodGet, "/me/events/"+ids["<nil>"]+"?$expand="+url.QueryEscape("singleValueExtendedProperties($filter=id eq '"+confProp+"')"), adele, nil).must(t, http.StatusOK)
		if _, ok := none.json["singleValueExtendedProperties"]; ok {
			t.Errorf("an event without the property must not list it: %s", none.raw)
		}
		all, err := e.srv.Events("adele.vance@contoso.example")
		if err != nil || len(all) != 3 {
			t.Fatalf("Events: %d, %v", len(all), err)
		}
		if !strings.Contains(string(all[0]), `"value":"333"`) {
			t.Errorf("Events should include extended properties: %s", all[0])
		}
	})
}

func TestPaging(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		day := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
		for i := range 25 {
			s := day.Add(time.Duration(i) * time.Hour)
			ev := sdkEvent(fmt.Sprint("e", i), s.Format("2006-01-02T15:04:05"), s.Add(30*time.Minute).Format("2006-01-02T15:04:05"))
			ev["start"].(map[string]any)["timeZone"], ev["end"].(map[string]any)["timeZone"] = "UTC", "UTC"
			e.call(http.MethodPost, "/me/calendar/events", adele, ev).must(t, http.StatusCreated)
		}
		var subjects []string
		next := "/me/events?$top=10&$count=true&$select=subject&$orderby=start/dateTime%20desc"
		for pages := 0; next != ""; pages++ {
			if pages > 3 {
				t.Fatal("nextLink never ends")
			}
			r := e.call(http.MethodGet, next, adele, nil).must(t, http.StatusOK)
			if r.json["@odata.count"] != float64(25) {
				t.Errorf("@odata.count %v", r.json["@odata.count"])
			}
			for _, v := range r.json["value"].([]any) {
				subjects = append(subjects, v.(map[string]any)["subject"].(string))
			}
			next, _ = r.json["@odata.nextLink"].(string)
			if next != "" && !strings.HasPrefix(next, e.base+"/me/events?") {
				t.Fatalf("nextLink %q is not absolute below the mount point", next)
			}
		}
		if len(subjects) != 25 || subjects[0] != "e24" || subjects[24] != "e0" {
			t.Errorf("paged subjects: %v", subjects)
		}
		// 10:00-10:30 overlaps the window's start and 11:00-11:30 its middle;
		// 12:00 starts where the window ends and does not overlap.
		view := "/me/calendarView?startDateTime=2024-05-01T10:15:00Z&endDateTime=2024-05-01T12:00:00&$select=subject"
		var got []string
		for next, pages := view, 0; next != ""; pages++ {
			if pages > 2 {
				t.Fatal("calendarView nextLink never ends")
			}
			r := e.call(http.MethodGet, next, adele, nil, "Prefer", "odata.maxpagesize=1").must(t, http.StatusOK)
			if r.header.Get("Preference-Applied") != "odata.maxpagesize=1" {
				t.Errorf("Preference-Applied %q", r.header.Get("Preference-Applied"))
			}
			for _, v := range r.json["value"].([]any) {
				got = append(got, v.(map[string]any)["subject"].(string))
			}
			next, _ = r.json["@odata.nextLink"].(string)
		}
		if fmt.Sprint(got) != "[e1 e2]" {
			t.Errorf("calendarView: %v", got)
		}
	})
}

func TestTeamsOnlineEventAndTransactionID(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		ev := sdkEvent("online", "2024-04-15T11:00:00", "2024-04-15T12:00:00")
		ev["isOnlineMeeting"], ev["onlineMeetingProvider"] = true, "teamsForBusiness"
		ev["transactionId"] = "7E163156-7762-4BEB-A1C6-729EA81755A7"
		first := e.call(http.MethodPost, "/me/events", adele, ev).must(t, http.StatusCreated).json
		join, _ := get(first, "onlineMeeting", "joinUrl").(string)
		if !strings.HasPrefix(join, "https://teams.microsoft.com/l/meetup-join/19%3ameeting_") {
			t.Errorf("joinUrl %q", join)
		}
		if body := get(first, "body", "content").(string); !strings.Contains(body, "Microsoft Teams Meeting") || !strings.HasSuffix(body, "</div>\r\n</body>\r\n</html>\r\n") {
			t.Errorf("Teams block not appended inside the body: %q", body)
		}
		again := e.call(http.MethodPost, "/me/events", adele, ev).must(t, http.StatusCreated).json
		if again["id"] != first["id"] {
			t.Error("a repeated transactionId created a second event")
		}
		r := e.call(http.MethodPatch, "/me/events/"+first["id"].(string), adele, `{"transactionId":"other"}`)
		if r.status != http.StatusBadRequest {
			t.Errorf("changing transactionId: %d", r.status)
		}
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		id := e.call(http.MethodPost, "/me/events", adele, sdkEvent("x", "2024-04-15T11:00:00", "2024-04-15T12:00:00")).must(t, http.StatusCreated).json["id"].(string)
		if r := e.call(http.MethodPost, "/me/events/"+id+"/cancel", adele, `{"Comment":"x","Reason":"y"}`); r.status != http.StatusBadRequest {
			t.Errorf("unknown cancel parameter: %d", r.status)
		}
		e.call(http.MethodPost, "/me/events/"+id+"/cancel", adele, `{"Comment":"Sorry, cancelled."}`).must(t, http.StatusAccepted)
		e.call(http.MethodGet, "/me/events/"+id, adele, nil).must(t, http.StatusNotFound)

		copyID, err := e.srv.AddEvent(adeleID, json.RawMessage(`{"subject":"Alex's meeting",
			"start":{"dateTime":"2024-04-16T09:00:00","timeZone":"UTC"},"end":{"dateTime":"2024-04-16T10:00:00","timeZone":"UTC"},
			"organizer":{"emailAddress":{"name":"Alex Wilber","address":"Alex.Wilber@contoso.example"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		c := e.call(http.MethodGet, "/me/events/"+copyID, adele, nil).must(t, http.StatusOK).json
		if c["isOrganizer"] != false || get(c, "responseStatus", "response") != "notResponded" {
			t.Errorf("seeded attendee copy: %v %v", c["isOrganizer"], c["responseStatus"])
		}
		if r := e.call(http.MethodPost, "/me/events/"+copyID+"/cancel", adele, `{}`); r.status != http.StatusBadRequest {
			t.Errorf("an attendee cancelled: %d %s", r.status, r.raw)
		}
	})
}

func TestGzipAndSizeLimit(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		body, _ := json.Marshal(sdkEvent("gz", "2024-04-15T11:00:00", "2024-04-15T12:00:00"))
		send := func(b []byte, encoding string) response {
			req, _ := http.NewRequest(http.MethodPost, e.base+"/me/events", strings.NewReader(string(b)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Content-Encoding", encoding)
			req.Header.Set("Authorization", "Bearer "+adele)
			return e.send(req)
		}
		if r := send(gzipped(t, body), "gzip").must(t, http.StatusCreated); r.json["subject"] != "gz" {
			t.Errorf("gzip body: %s", r.raw)
		}
		if r := send(body, "gzip"); r.status != http.StatusBadRequest {
			t.Errorf("invalid gzip: %d", r.status)
		}
		huge := `{"subject":"` + strings.Repeat("x", 4<<20) + `"}`
		if r := send(gzipped(t, []byte(huge)), "gzip"); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("gzipped body over 4 MB: %d", r.status)
		}
		if r := send([]byte(huge), ""); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("body over 4 MB: %d", r.status)
		}
	})
}
