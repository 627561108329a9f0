package sandbox

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/webscheduler/webscheduler/backend/sandbox/emuentra"
	"github.com/webscheduler/webscheduler/backend/sandbox/emugraph"
)

// User is one person of the sandbox tenant.
type User struct {
	OID, UPN, Name, Given, Surname, Lang, TimeZone string
	Roles                                          []string
	Proxies                                        []string
	Delegates                                      []string
}

// Seeded users carry proxy addresses of every type Exchange uses, so the
// parser meets them all on the first run.
var seedUsers = []User{
	{
		OID: "0d2d8a14-6c1e-4b3f-9a57-1e8c4b2d7f01", UPN: "adele.vance@contoso.example", Name: "Adele Vance",
		Given: "Adele", Surname: "Vance", Lang: "en-US", TimeZone: "Pacific Standard Time",
		Roles: []string{"WebScheduler.Admin"},
		Proxies: []string{
			"SMTP:Adele.Vance@contoso.example",
			"smtp:adelev@contoso.onmicrosoft.example",
			"SIP:adele.vance@contoso.example",
			"X500:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0d2d8a14-Adele",
			"X400:c=US;a= ;p=Contoso;o=Exchange;s=Vance;g=Adele;",
			"EUM:4711;phone-context=Contoso-DialPlan.contoso.example",
		},
	},
	{
		OID: "3f6b9c27-8e4d-4a1b-b2c3-5d7e9f0a1b02", UPN: "alex.wilber@contoso.example", Name: "Alex Wilber",
		Given: "Alex", Surname: "Wilber", Lang: "de-DE", TimeZone: "W. Europe Standard Time",
		Delegates: []string{"0d2d8a14-6c1e-4b3f-9a57-1e8c4b2d7f01"},
		Proxies: []string{
			"SMTP:Alex.Wilber@contoso.example",
			"smtp:alexw@contoso.onmicrosoft.example",
			"sip:alex.wilber@contoso.example",
			"X500:/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=3f6b9c27-Alex",
			"X400:c=DE;a= ;p=Contoso;o=Exchange;s=Wilber;g=Alex;",
			"EUM:4712;phone-context=Contoso-DialPlan.contoso.example",
		},
	},
}

func entraUsers(users []User) []emuentra.User {
	var out []emuentra.User
	for _, u := range users {
		out = append(out, emuentra.User{OID: u.OID, UPN: u.UPN, Name: u.Name, Roles: u.Roles})
	}
	return out
}

func graphUsers(users []User) []emugraph.User {
	var out []emugraph.User
	for _, u := range users {
		out = append(out, emugraph.User{
			ID: u.OID, UPN: u.UPN, DisplayName: u.Name, GivenName: u.Given, Surname: u.Surname,
			Mail: u.UPN, PreferredLanguage: u.Lang, ProxyAddresses: u.Proxies, TimeZone: u.TimeZone,
			Delegates: u.Delegates,
		})
	}
	return out
}

// seedEvents gives each mailbox a few meetings in the coming days.
func seedEvents(g *emugraph.Server, now time.Time) error {
	day := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	for i, u := range seedUsers {
		other := seedUsers[(i+1)%len(seedUsers)]
		for j, subject := range []string{"Project sync", "Quarterly planning"} {
			start := day.Add(time.Duration(9+2*j+i) * time.Hour).Add(time.Duration(j*24) * time.Hour)
			ev := map[string]any{
				"subject": subject,
				"body":    map[string]string{"contentType": "html", "content": fmt.Sprintf("<p>Agenda for %s.</p>", subject)},
				"start":   map[string]string{"dateTime": start.Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
				"end":     map[string]string{"dateTime": start.Add(time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
				"attendees": []map[string]any{{
					"type":         "required",
					"emailAddress": map[string]string{"address": other.UPN, "name": other.Name},
				}},
			}
			raw, _ := json.Marshal(ev)
			if _, err := g.AddEvent(u.UPN, raw); err != nil {
				return fmt.Errorf("seeding %s: %w", u.UPN, err)
			}
		}
	}
	return nil
}
