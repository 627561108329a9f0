package emugraph_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	modes(t, func(t *testing.T, e *env) {
		me := e.call(http.MethodGet, "/me", adele, nil).must(t, http.StatusOK).json
		if me["id"] != adeleID || me["userPrincipalName"] != "adele.vance@contoso.example" || me["mobilePhone"] != nil {
			t.Errorf("/me: %v", me)
		}
		if _, ok := me["proxyAddresses"]; ok {
			t.Error("proxyAddresses is not a default property")
		}
		sel := e.call(http.MethodGet, "/me?$select=proxyAddresses,DisplayName", adele, nil).must(t, http.StatusOK).json
		if len(sel) != 3 || sel["displayName"] != "Adele Vance" || len(sel["proxyAddresses"].([]any)) != 3 ||
			sel["@odata.context"] != e.base+"/$metadata#users(proxyAddresses,displayName)/$entity" {
			t.Errorf("$select (a user gets no id added, unlike Outlook items): %v", sel)
		}
		other := e.call(http.MethodGet, "/users/ALEX.WILBER@contoso.example?$select=id,mail", adele, nil).must(t, http.StatusOK).json
		if other["id"] != alexID || other["mail"] != "Alex.Wilber@contoso.example" {
			t.Errorf("/users/{UPN}: %v", other)
		}
		if r := e.call(http.MethodGet, "/me?$select=colour", adele, nil); r.status != http.StatusBadRequest {
			t.Errorf("unknown $select: %d", r.status)
		}

		filter := "startswith(displayName,'a') or startswith(mail,'a')"
		list := e.call(http.MethodGet, "/users?$filter="+url.QueryEscape(filter)+"&$select=displayName,mail&$top=5", adele, nil).must(t, http.StatusOK).json
		var names []string
		for _, u := range list["value"].([]any) {
			names = append(names, u.(map[string]any)["displayName"].(string))
		}
		if !slices.Equal(names, []string{"Adele Vance", "Alex Wilber"}) {
			t.Errorf("attendee suggestions: %v", names)
		}
		top := e.call(http.MethodGet, "/users?$filter="+url.QueryEscape(filter)+"&$top=1", adele, nil).must(t, http.StatusOK).json
		if n := len(top["value"].([]any)); n != 1 {
			t.Errorf("$top=1 gave %d", n)
		}
		if r := e.call(http.MethodGet, "/users?$filter="+url.QueryEscape("city eq null"), adele, nil); r.status != http.StatusBadRequest || r.errorCode() != "Request_UnsupportedQuery" {
			t.Errorf("unsupported filter: %d %s", r.status, r.raw)
		}

		settings := e.call(http.MethodGet, "/me/mailboxSettings", adele, nil).must(t, http.StatusOK).json
		if settings["timeZone"] != "Pacific Standard Time" || at(settings, "workingHours.timeZone.name") != "Pacific Standard Time" {
			t.Errorf("mailboxSettings: %v", settings)
		}
		tz := e.call(http.MethodGet, "/me/mailboxSettings?$select=timeZone", adele, nil).must(t, http.StatusOK).json
		if len(tz) != 2 || tz["timeZone"] != "Pacific Standard Time" {
			t.Errorf("mailboxSettings $select: %v", tz)
		}
	})
}

func TestAccess(t *testing.T) {
	t.Parallel()
	adeleEvents := "/users/adele.vance@contoso.example/events"
	tests := []struct {
		name   string
		method string
		path   string
		token  string
		status int
		code   string
	}{
		{"no token", "GET", "/me", "", 401, "InvalidAuthenticationToken"},
		{"malformed token", "GET", "/me", "garbage", 401, "InvalidAuthenticationToken"},
		{"own calendar", "GET", "/me/events", delegated(adeleID, "Calendars.Read"), 200, ""},
		{"own calendar without a scope", "GET", "/me/events", delegated(adeleID, "User.Read"), 403, "ErrorAccessDenied"},
		{"read-only scope cannot write", "POST", "/me/events", delegated(adeleID, "Calendars.Read"), 403, "ErrorAccessDenied"},
		{"delegate with a shared scope", "GET", adeleEvents, delegated(alexID, "Calendars.ReadWrite.Shared"), 200, ""},
		{"delegate writes with a shared scope", "POST", adeleEvents, delegated(alexID, "Calendars.ReadWrite.Shared"), 201, ""},
		{"delegate without a shared scope", "GET", adeleEvents, delegated(alexID, "Calendars.ReadWrite"), 403, "ErrorAccessDenied"},
		{"not a delegate", "GET", adeleEvents, delegated(meganID, "Calendars.ReadWrite.Shared"), 403, "ErrorAccessDenied"},
		{"not a delegate, mailbox settings", "GET", "/users/" + adeleID + "/mailboxSettings", delegated(meganID, "MailboxSettings.Read"), 403, "ErrorAccessDenied"},
		{"delegation is one way", "GET", "/users/" + alexID + "/events", delegated(adeleID, "Calendars.ReadWrite.Shared"), 403, "ErrorAccessDenied"},
		{"unknown mailbox", "GET", "/users/nobody@contoso.example/events", delegated(adeleID, "Calendars.Read.Shared"), 404, "ErrorInvalidUser"},
		{"another user with User.ReadBasic.All", "GET", "/users/" + adeleID, delegated(meganID, "User.ReadBasic.All"), 200, ""},
		{"another user with User.Read only", "GET", "/users/" + adeleID, delegated(meganID, "User.Read"), 403, "Authorization_RequestDenied"},
		{"unknown user", "GET", "/users/nobody@contoso.example", delegated(meganID, "User.Read.All"), 404, "Request_ResourceNotFound"},
		{"users list needs an .All scope", "GET", "/users", delegated(meganID, "User.Read"), 403, "Authorization_RequestDenied"},
		{"app-only calendar", "POST", adeleEvents, appOnly("Calendars.ReadWrite"), 201, ""},
		{"app-only without the role", "GET", adeleEvents, appOnly("User.Read.All"), 403, "ErrorAccessDenied"},
		{"app-only scopes do not count", "GET", adeleEvents, "roles=;scp=Calendars.ReadWrite", 403, "ErrorAccessDenied"},
		{"app-only /me", "GET", "/me", appOnly("User.Read.All"), 400, "BadRequest"},
		{"app-only user", "GET", "/users/" + adeleID, appOnly("User.Read.All"), 200, ""},
		{"app-only users list", "GET", "/users", appOnly("Directory.Read.All"), 200, ""},
		{"app-only meeting", "POST", "/users/" + adeleID + "/onlineMeetings/createOrGet", appOnly("OnlineMeetings.ReadWrite.All"), 201, ""},
		{"delegate cannot make the boss's meetings", "POST", "/users/" + adeleID + "/onlineMeetings/createOrGet", delegated(alexID, "OnlineMeetings.ReadWrite", "Calendars.ReadWrite.Shared"), 403, "ErrorAccessDenied"},
		{"token of a user outside the tenant", "GET", "/me", delegated("ffffffff-0000-4000-8000-000000000000", "User.Read"), 401, "InvalidAuthenticationToken"},
	}
	modes(t, func(t *testing.T, e *env) {
		for _, tc := range tests {
			var body any
			switch {
			case strings.HasSuffix(tc.path, "createOrGet"):
				body = map[string]any{"externalId": "access-" + tc.name}
			case tc.method == "POST":
				body = sdkEvent("x", "2024-04-15T11:00:00", "2024-04-15T12:00:00")
			}
			r := e.call(tc.method, tc.path, tc.token, body)
			if r.status != tc.status || r.errorCode() != tc.code {
				t.Errorf("%s: %d %q, want %d %q: %s", tc.name, r.status, r.errorCode(), tc.status, tc.code, r.raw)
			}
			if r.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: 401 without WWW-Authenticate", tc.name)
			}
		}
	})
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	users := testUsers()
	tests := map[string]emugraph.Options{
		"no authenticator":  {Users: users},
		"duplicate user":    {Users: append(users, users[0]), Authenticate: stubAuth},
		"unknown delegate":  {Users: []emugraph.User{{ID: "a", UPN: "a@x", Delegates: []string{"b"}}}, Authenticate: stubAuth},
		"user without UPN":  {Users: []emugraph.User{{ID: "a"}}, Authenticate: stubAuth},
		"unprepared spec":   {Users: users, Authenticate: stubAuth, Spec: unpreparedSpec()},
		"duplicate UPN too": {Users: []emugraph.User{{ID: "a", UPN: "x@y"}, {ID: "b", UPN: "X@Y"}}, Authenticate: stubAuth},
	}
	for name, o := range tests {
		if _, err := emugraph.New(o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// unpreparedSpec still points at graph.microsoft.com, as the file does
// before LoadSpec rewrites its server.
func unpreparedSpec() *openapi3.T {
	return &openapi3.T{Servers: openapi3.Servers{{URL: "https://graph.microsoft.com/v1.0/"}}}
}
