package graph

import (
	"context"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// basicFields are the user properties User.ReadBasic.All grants: enough to
// name a person and address them.
var basicFields = []string{"id", "displayName", "givenName", "surname", "mail", "userPrincipalName"}

// FindPeople suggests attendees whose name or address starts with prefix.
func (c *Client) FindPeople(ctx context.Context, p scheduler.Principal, prefix string, top int) ([]scheduler.Attendee, error) {
	ctx = entra.WithPrincipal(ctx, p)
	q := strings.ReplaceAll(prefix, "'", "''") // OData string literal
	var clauses []string
	for _, prop := range []string{"displayName", "givenName", "surname", "mail", "userPrincipalName"} {
		clauses = append(clauses, "startswith("+prop+",'"+q+"')")
	}
	filter, n := strings.Join(clauses, " or "), int32(top)
	resp, err := c.users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: basicFields, Top: &n},
	})
	if err != nil {
		return nil, graphError("GET /users", err)
	}
	out := []scheduler.Attendee{}
	for _, u := range resp.GetValue() {
		addr := str(u.GetMail())
		if addr == "" {
			addr = str(u.GetUserPrincipalName())
		}
		if addr != "" {
			out = append(out, scheduler.Attendee{Name: str(u.GetDisplayName()), Address: addr})
		}
	}
	return out, nil
}

// User reads another person's basic profile: the owner of a calendar a
// delegate schedules in (id is an object ID or a UPN).
func (c *Client) User(ctx context.Context, p scheduler.Principal, id string) (scheduler.Profile, error) {
	ctx = entra.WithPrincipal(ctx, p)
	u, err := c.users().ByUserId(id).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: basicFields},
	})
	if err != nil {
		err = graphError("GET /users/{id}", err)
		if scheduler.ErrorCode(err) == scheduler.ECodeNotFound {
			return scheduler.Profile{}, scheduler.Wrap(scheduler.ECodeNotFound, "No one in your organization has that address.", err)
		}
		return scheduler.Profile{}, err
	}
	return scheduler.NewProfile(str(u.GetId()), str(u.GetDisplayName()), str(u.GetGivenName()), str(u.GetSurname()),
		str(u.GetMail()), str(u.GetUserPrincipalName()), "", nil), nil
}

// MailboxTimeZone returns the time zone of the signed-in user's mailbox as
// Exchange names it: usually a Windows name, sometimes IANA.
func (c *Client) MailboxTimeZone(ctx context.Context, p scheduler.Principal) (string, error) {
	ctx = entra.WithPrincipal(ctx, p)
	s, err := c.me().MailboxSettings().Get(ctx, &users.ItemMailboxSettingsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemMailboxSettingsRequestBuilderGetQueryParameters{Select: []string{"timeZone"}},
	})
	if err != nil {
		return "", graphError("GET /me/mailboxSettings", err)
	}
	return str(s.GetTimeZone()), nil
}
