package conferencing_test

import (
	"context"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// FuzzJitsiDirectory sends the public, unauthenticated dial-in directory
// arbitrary requests. It must never panic or fail, and no answer may name
// more than one conference: the directory looks up, it never lists.
func FuzzJitsiDirectory(f *testing.F) {
	store := inmem.New()
	confs := []scheduler.Conference{
		{MeetingID: "m1", ConferenceID: "1234567", Provider: "template", Room: "meeting-1234567", JoinURL: "https://meet.contoso.example/1234567"},
		{MeetingID: "m2", ConferenceID: "7654321", Provider: "template", Room: "meeting-7654321", JoinURL: "https://meet.contoso.example/7654321"},
		{MeetingID: "m3", ConferenceID: "987654321", Provider: "teams", JoinURL: "https://teams.microsoft.com/l/meetup-join/x"},
	}
	for _, c := range confs {
		if err := store.CreateConference(context.Background(), c, time.Hour); err != nil {
			f.Fatal(err)
		}
	}
	h := conferencing.NewJitsiDirectory(store, conferencing.SandboxSettings("http://localhost:8080"))
	for _, s := range []struct{ method, query, body string }{
		{"GET", "/conferenceMapper?id=1234567", ""},
		{"GET", "/conferenceMapper?conference=meeting-1234567@" + domain, ""},
		{"GET", "/conferenceMapper?id=1234567&conference=meeting-7654321", ""},
		{"GET", "/conferenceMapper?id=*", ""},
		{"GET", "/conferenceMapper?conference=meeting-%25", ""},
		{"GET", "/phoneNumberList?conference=meeting-1234567@" + domain, ""},
		{"POST", "/conferenceMapper", `{"room":"meeting-1234567","id":7654321}`},
		{"POST", "/conferenceMapper", `{"conference":["meeting-1234567","meeting-7654321"]}`},
		{"GET", "/conferenceMapper?id=1234567&id=7654321", ""},
	} {
		f.Add(s.method, s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, method, query, body string) {
		if _, err := url.ParseRequestURI(query); err != nil || !strings.HasPrefix(query, "/") ||
			strings.ContainsAny(query, " \r\n#") || (method != "GET" && method != "POST") {
			return // not a request a client can send
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, "http://dir.example"+query, strings.NewReader(body))
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d", method, query, body, rec.Code)
		}
		out, _ := io.ReadAll(rec.Result().Body)
		named := 0
		for _, c := range confs {
			if strings.Contains(string(out), c.ConferenceID) || (c.Room != "" && strings.Contains(string(out), c.Room)) {
				named++
			}
		}
		if named > 1 {
			t.Fatalf("%s %s %q names %d conferences: %s", method, query, body, named, out)
		}
	})
}
