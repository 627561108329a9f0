package emugraph

import (
	"net/http"
	"slices"
)

// access is what a route needs the caller to be allowed on the addressed user.
type access int

const (
	accessNone access = iota // $batch: each sub-request is checked on its own
	accessUser
	accessUserList
	accessSettings
	accessCalendarRead
	accessCalendarWrite
	accessMeetingsRead
	accessMeetingsWrite
)

// permission lists the scopes (delegated) or roles (app-only) that grant an
// access, as Graph's permission reference does. Mailbox data of another user
// needs delegation and a ".Shared" scope, as in Exchange; directory data of
// another user needs an ".All" scope; online meetings are only ever the
// signed-in user's own when delegated.
type permission struct {
	own, other, app []string
	mailbox         bool   // other users' data needs delegation
	denied          string // the error code Graph uses for this API
}

var (
	userAll     = []string{"User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permissions = map[access]permission{
		accessUser:          {own: append([]string{"User.Read", "User.ReadWrite"}, userAll...), other: userAll, app: userAll, denied: "Authorization_RequestDenied"},
		accessUserList:      {other: userAll, app: userAll, denied: "Authorization_RequestDenied"},
		accessSettings:      {own: []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}, other: []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}, app: []string{"MailboxSettings.Read", "MailboxSettings.ReadWrite"}, mailbox: true, denied: "ErrorAccessDenied"},
		accessCalendarRead:  {own: []string{"Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}, other: []string{"Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}, app: []string{"Calendars.Read", "Calendars.ReadWrite"}, mailbox: true, denied: "ErrorAccessDenied"},
		accessCalendarWrite: {own: []string{"Calendars.ReadWrite", "Calendars.ReadWrite.Shared"}, other: []string{"Calendars.ReadWrite.Shared"}, app: []string{"Calendars.ReadWrite"}, mailbox: true, denied: "ErrorAccessDenied"},
		accessMeetingsRead:  {own: []string{"OnlineMeetings.Read", "OnlineMeetings.ReadWrite"}, app: []string{"OnlineMeetings.Read.All", "OnlineMeetings.ReadWrite.All"}, mailbox: true, denied: "ErrorAccessDenied"},
		accessMeetingsWrite: {own: []string{"OnlineMeetings.ReadWrite"}, app: []string{"OnlineMeetings.ReadWrite.All"}, mailbox: true, denied: "ErrorAccessDenied"},
	}
)

// authorize resolves the addressed user and checks the caller may reach it.
func (c *call) authorize(m *match) *apiError {
	if m.route.access == accessNone {
		return nil
	}
	p := permissions[m.route.access]
	if m.route.access != accessUserList {
		switch {
		case m.me && c.caller.UserID == "":
			return errorf(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
		case m.me:
			if c.owner = c.s.lookupUser(c.caller.UserID); c.owner == nil {
				return errorf(http.StatusUnauthorized, "InvalidAuthenticationToken", "The token's user %q is not in this tenant.", c.caller.UserID)
			}
		default:
			if c.owner = c.s.lookupUser(m.user); c.owner == nil {
				if p.mailbox {
					return errorf(http.StatusNotFound, "ErrorInvalidUser", "The requested user '%s' is invalid.", m.user)
				}
				return errorf(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", m.user)
			}
		}
	}
	var granted, held []string
	switch {
	case c.caller.UserID == "":
		granted, held = p.app, c.caller.Roles
	case c.owner != nil && c.owner.ID == c.caller.UserID:
		granted, held = p.own, c.caller.Scopes
	case p.mailbox && c.owner != nil && !slices.Contains(c.owner.Delegates, c.caller.UserID):
		return errorf(http.StatusForbidden, p.denied, "Access is denied. Check credentials and try again.")
	default:
		granted, held = p.other, c.caller.Scopes
	}
	for _, g := range granted {
		if slices.Contains(held, g) {
			return nil
		}
	}
	if p.denied == "Authorization_RequestDenied" {
		return errorf(http.StatusForbidden, p.denied, "Insufficient privileges to complete the operation.")
	}
	return errorf(http.StatusForbidden, p.denied, "Access is denied. Check credentials and try again.")
}
