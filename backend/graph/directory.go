package graph

import (
	"context"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var _ scheduler.Directory = (*Client)(nil)

// meFields is all /me asks for: least data, least time.
var meFields = []string{"id", "displayName", "givenName", "surname", "mail", "userPrincipalName", "proxyAddresses", "preferredLanguage"}

// Me reads the signed-in user's profile.
func (c *Client) Me(ctx context.Context, p scheduler.Principal) (scheduler.Profile, error) {
	ctx = entra.WithPrincipal(ctx, p)
	u, err := c.me().Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: meFields},
	})
	if err != nil {
		return scheduler.Profile{}, graphError("GET /me", err)
	}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return scheduler.NewProfile(s(u.GetId()), s(u.GetDisplayName()), s(u.GetGivenName()), s(u.GetSurname()),
		s(u.GetMail()), s(u.GetUserPrincipalName()), s(u.GetPreferredLanguage()), u.GetProxyAddresses()), nil
}
