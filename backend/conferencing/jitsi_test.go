package conferencing_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/webscheduler/webscheduler/backend/conferencing"
	"github.com/webscheduler/webscheduler/backend/inmem"
	"github.com/webscheduler/webscheduler/backend/oracle"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// jitsiStore holds a template conference (with a room) and a Teams one
// (without).
func jitsiStore(t *testing.T) *inmem.Store {
	t.Helper()
	store := inmem.New()
	for _, c := range []scheduler.Conference{
		{MeetingID: "m-template", ConferenceID: "1234567", Provider: "template", Room: "meeting-1234567", JoinURL: "https://meet.contoso.example/1234567"},
		{MeetingID: "m-teams", ConferenceID: "987654321", Provider: "teams", JoinURL: "https://teams.microsoft.com/l/meetup-join/x"},
	} {
		if err := store.CreateConference(context.Background(), c, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	return store
}

func serve(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, r))
	return rec
}

const domain = "conference.meet.contoso.example"

// TestJitsiDirectory pins every answer: successes to golden files under
// testdata/jitsi, errors to their status and code.
func TestJitsiDirectory(t *testing.T) {
	t.Parallel()
	h := conferencing.NewJitsiDirectory(jitsiStore(t), conferencing.SandboxSettings("http://localhost:8080"))
	tests := []struct {
		name, method, target, body string
		status                     int
		golden                     string // file under testdata/jitsi, or "" for an error
	}{
		{"by JID", "GET", "/conferenceMapper?conference=meeting-1234567@" + domain, "", 200, "mapper-found.json"},
		{"by JID in capitals", "GET", "/conferenceMapper?conference=Meeting-1234567@Conference.Meet.Contoso.Example", "", 200, "mapper-found.json"},
		{"by room", "GET", "/conferenceMapper?conference=meeting-1234567", "", 200, "mapper-found.json"},
		{"as Jitsi Meet asks", "GET", "/conferenceMapper?conference=meeting-1234567@" + domain + "&url=https://meet.contoso.example/meeting-1234567", "", 200, "mapper-found.json"},
		{"conference before id", "GET", "/conferenceMapper?id=7654321&conference=meeting-1234567@" + domain, "", 200, "mapper-found.json"},
		{"by id", "GET", "/conferenceMapper?id=1234567", "", 200, "mapper-found.json"},
		{"unknown room", "GET", "/conferenceMapper?conference=standup@" + domain, "", 200, "mapper-unknown-conference.json"},
		{"room not shaped as ours", "GET", "/conferenceMapper?conference=réunion@" + domain, "", 200, "mapper-unknown-conference.json"},
		{"other domain", "GET", "/conferenceMapper?conference=meeting-1234567@conference.other.example", "", 200, "mapper-unknown-conference.json"},
		{"unknown id", "GET", "/conferenceMapper?id=7654321", "", 200, "mapper-unknown-id.json"},
		{"id with leading zeros", "GET", "/conferenceMapper?id=0007654321", "", 200, "mapper-unknown-id.json"},
		{"id of a roomless conference", "GET", "/conferenceMapper?id=987654321", "", 200, "mapper-roomless-id.json"},
		{"POST conference", "POST", "/conferenceMapper", `{"conference":"meeting-1234567@` + domain + `"}`, 200, "mapper-found.json"},
		{"POST room", "POST", "/conferenceMapper", `{"room":"MEETING-1234567"}`, 200, "mapper-found.json"},
		{"POST room and domain", "POST", "/conferenceMapper", `{"room":"meeting-1234567","domain":"` + domain + `"}`, 200, "mapper-found.json"},
		{"POST room in another domain", "POST", "/conferenceMapper", `{"room":"meeting-1234567","domain":"conference.other.example"}`, 200, "mapper-unknown-conference.json"},
		{"POST id", "POST", "/conferenceMapper", `{"id":1234567}`, 200, "mapper-found.json"},
		{"POST unknown id", "POST", "/conferenceMapper", `{"id":7654321,"extra":true}`, 200, "mapper-unknown-id.json"},
		{"phone numbers", "GET", "/phoneNumberList", "", 200, "phone-object.json"},
		{"phone numbers as Jitsi Meet asks", "GET", "/phoneNumberList?conference=meeting-1234567@" + domain, "", 200, "phone-object.json"},
		{"phone numbers as an object", "GET", "/phoneNumberList?format=object", "", 200, "phone-object.json"},
		{"phone numbers as an array", "GET", "/phoneNumberList?format=array&conference=meeting-1234567@" + domain, "", 200, "phone-array.json"},

		{"nothing asked", "GET", "/conferenceMapper", "", 400, "error-missing.json"},
		{"only unknown parameters", "GET", "/conferenceMapper?url=https://meet.contoso.example/", "", 400, ""},
		{"empty conference", "GET", "/conferenceMapper?conference=", "", 400, ""},
		{"empty room", "GET", "/conferenceMapper?conference=@" + domain, "", 400, ""},
		{"space in room", "GET", "/conferenceMapper?conference=a%20b@" + domain, "", 400, ""},
		{"slash in room", "GET", "/conferenceMapper?conference=a/b@" + domain, "", 400, ""},
		{"control in room", "GET", "/conferenceMapper?conference=a%00b", "", 400, ""},
		{"not UTF-8", "GET", "/conferenceMapper?conference=a%ffb", "", 400, ""},
		{"bad domain", "GET", "/conferenceMapper?conference=room@bad_domain", "", 400, ""},
		{"two at signs", "GET", "/conferenceMapper?conference=a@b@" + domain, "", 400, ""},
		{"oversized conference", "GET", "/conferenceMapper?conference=" + strings.Repeat("a", 257), "", 400, ""},
		{"oversized query", "GET", "/conferenceMapper?id=1&url=" + strings.Repeat("a", 2048), "", 400, ""},
		{"ill-formed query", "GET", "/conferenceMapper?id=%zz", "", 400, ""},
		{"repeated id", "GET", "/conferenceMapper?id=1234567&id=7654321", "", 400, ""},
		{"letters in id", "GET", "/conferenceMapper?id=12a4567", "", 400, ""},
		{"negative id", "GET", "/conferenceMapper?id=-1234567", "", 400, ""},
		{"oversized id", "GET", "/conferenceMapper?id=1234567890123456", "", 400, ""},
		{"POST nothing", "POST", "/conferenceMapper", `{}`, 400, ""},
		{"POST not JSON", "POST", "/conferenceMapper", `conference=meeting-1234567`, 400, ""},
		{"POST two objects", "POST", "/conferenceMapper", `{"id":1}{"id":2}`, 400, ""},
		{"POST fraction", "POST", "/conferenceMapper", `{"id":1234567.5}`, 400, ""},
		{"POST exponent", "POST", "/conferenceMapper", `{"id":1e6}`, 400, ""},
		{"POST wrong type", "POST", "/conferenceMapper", `{"conference":1234567}`, 400, ""},
		{"POST oversized room", "POST", "/conferenceMapper", `{"room":"` + strings.Repeat("a", 300) + `"}`, 400, ""},
		{"POST oversized", "POST", "/conferenceMapper", `{"room":"` + strings.Repeat("a", 5000) + `"}`, 400, ""},
		{"unknown format", "GET", "/phoneNumberList?format=xml", "", 400, ""},
		{"bad conference for numbers", "GET", "/phoneNumberList?conference=a%20b", "", 400, ""},
		{"PUT", "PUT", "/conferenceMapper", `{}`, 405, ""},
		{"POST numbers", "POST", "/phoneNumberList", `{}`, 405, ""},
		{"listing", "GET", "/conferences", "", 404, ""},
		{"root", "GET", "/", "", 404, ""},
		{"trailing slash", "GET", "/conferenceMapper/?id=1234567", "", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := serve(h, tt.method, tt.target, tt.body)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no Access-Control-Allow-Origin")
			}
			if tt.golden != "" {
				golden(t, filepath.Join("jitsi", tt.golden), rec.Body.Bytes())
			}
			if tt.status >= 400 {
				var e struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
					t.Errorf("error body %s: %v", rec.Body, err)
				}
			}
			if tt.status == 405 && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestJitsiDirectoryDisabled(t *testing.T) {
	t.Parallel()
	s := conferencing.SandboxSettings("http://localhost:8080")
	s.Jitsi.Enabled = false
	h := conferencing.NewJitsiDirectory(jitsiStore(t), s)
	for _, target := range []string{"/conferenceMapper?id=1234567", "/conferenceMapper?conference=meeting-1234567", "/phoneNumberList", "/"} {
		if rec := serve(h, "GET", target, ""); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
	}
	if rec := serve(h, "POST", "/conferenceMapper", `{"id":1234567}`); rec.Code != http.StatusNotFound {
		t.Errorf("POST: %d %s", rec.Code, rec.Body)
	}
}

func TestJitsiDirectoryNoNumbers(t *testing.T) {
	t.Parallel()
	s := conferencing.SandboxSettings("http://localhost:8080")
	s.DialIn.Numbers = nil
	h := conferencing.NewJitsiDirectory(jitsiStore(t), s)
	for target, want := range map[string]string{
		"/phoneNumberList":              `{"message":"No phone numbers available.","numbers":{},"numbersEnabled":false}` + "\n",
		"/phoneNumberList?format=array": "[]\n",
	} {
		if rec := serve(h, "GET", target, ""); rec.Code != 200 || rec.Body.String() != want {
			t.Errorf("GET %s: %d %s, want %s", target, rec.Code, rec.Body, want)
		}
	}
}

// failingStore is a store that cannot answer.
type failingStore struct {
	scheduler.ConferenceStore
	err error
}

func (f failingStore) ConferenceByRoom(context.Context, string) (scheduler.Conference, error) {
	return scheduler.Conference{}, f.err
}

func (f failingStore) ConferenceByID(context.Context, string) (scheduler.Conference, error) {
	return scheduler.Conference{}, f.err
}

func TestJitsiDirectoryStoreFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{scheduler.Wrap(scheduler.ECodeStoreUnavailable, "The session store is unavailable. Try again shortly.", io.ErrUnexpectedEOF), 503, "store_unavailable"},
		{io.ErrUnexpectedEOF, 500, "internal"},
	}
	for _, tt := range tests {
		h := conferencing.NewJitsiDirectory(failingStore{err: tt.err}, conferencing.SandboxSettings("http://localhost:8080"))
		for _, target := range []string{"/conferenceMapper?id=1234567", "/conferenceMapper?conference=meeting-1234567"} {
			rec := serve(h, "GET", target, "")
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), `"code":"`+tt.code+`"`) || strings.Contains(rec.Body.String(), "EOF") {
				t.Errorf("GET %s with %v: %d %s", target, tt.err, rec.Code, rec.Body)
			}
		}
	}
}

// loadSwagger loads the oracle's Swagger 2.0 document as OpenAPI 3.
func loadSwagger(t *testing.T) *openapi3.T {
	t.Helper()
	b, err := os.ReadFile(oracle.Path(t, "jitsi/cloud-api.swagger"))
	if err != nil {
		t.Fatal(err)
	}
	var doc2 openapi2.T
	if err := openapi2.UnmarshalFromData(b, &doc2); err != nil {
		t.Fatal(err)
	}
	doc, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// responseSchema is the schema of an operation's 200 response.
func responseSchema(t *testing.T, doc *openapi3.T, path, method string) *openapi3.Schema {
	t.Helper()
	item := doc.Paths.Find(path)
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("swagger has no %s %s", method, path)
	}
	resp := item.GetOperation(method).Responses.Status(200)
	if resp == nil || resp.Value.Content.Get("application/json") == nil {
		t.Fatalf("swagger has no JSON 200 response for %s %s", method, path)
	}
	return resp.Value.Content.Get("application/json").Schema.Value
}

// TestJitsiDirectorySwagger checks our answers against the definitions of
// Jitsi Meet's cloud-api.swagger.
func TestJitsiDirectorySwagger(t *testing.T) {
	t.Parallel()
	doc := loadSwagger(t)
	h := conferencing.NewJitsiDirectory(jitsiStore(t), conferencing.SandboxSettings("http://localhost:8080"))
	tests := []struct {
		method, path, query, body string
		found                     bool
	}{
		{"GET", "/conferenceMapper", "?conference=meeting-1234567@" + domain, "", true},
		{"GET", "/conferenceMapper", "?id=1234567", "", true},
		{"GET", "/conferenceMapper", "?id=7654321", "", false},
		{"GET", "/conferenceMapper", "?conference=standup@" + domain, "", false},
		{"POST", "/conferenceMapper", "", `{"room":"meeting-1234567"}`, true},
		{"POST", "/conferenceMapper", "", `{"id":7654321}`, false},
	}
	for _, tt := range tests {
		schema := responseSchema(t, doc, tt.path, tt.method)
		rec := serve(h, tt.method, tt.path+tt.query, tt.body)
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.query, err)
		}
		if _, ok := v["id"].(float64); !ok || len(v) != 2 {
			t.Errorf("%s %s%s: %s: want a numeric id and a conference", tt.method, tt.path, tt.query, rec.Body)
		}
		if !tt.found {
			// The swagger describes conference as "Full JID … OR boolean
			// false if no conference was found"; its type says string.
			if v["conference"] != false {
				t.Errorf("%s %s%s: %s: want conference false", tt.method, tt.path, tt.query, rec.Body)
			}
			delete(v, "conference")
		}
		if err := schema.VisitJSON(v); err != nil {
			t.Errorf("%s %s%s: %s does not match ConferenceMapperDetails: %v", tt.method, tt.path, tt.query, rec.Body, err)
		}
	}

	rec := serve(h, "GET", "/phoneNumberList?format=array", "")
	var numbers []any
	if err := json.Unmarshal(rec.Body.Bytes(), &numbers); err != nil || len(numbers) == 0 {
		t.Fatalf("phone numbers %s: %v", rec.Body, err)
	}
	if err := responseSchema(t, doc, "/phoneNumberList", "GET").VisitJSON(numbers); err != nil {
		t.Errorf("phone numbers %s do not match the swagger: %v", rec.Body, err)
	}
	for _, n := range numbers {
		if len(n.(map[string]any)) != 3 {
			t.Errorf("phone number %v: want countryCode, formattedNumber and tollFree", n)
		}
	}
}
