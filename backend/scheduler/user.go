package scheduler

import "context"

// Principal is who a validated token says the caller is.
type Principal struct {
	OID      string   // Entra object ID of the user
	TID      string   // tenant ID
	Name     string   // display name claim (kept in memory only)
	Username string   // preferred_username claim (kept in memory only)
	Roles    []string // app roles
	Scopes   []string // delegated scopes
	// Assertion is the raw access token, kept only for on-behalf-of.
	Assertion string `json:"-"`
}

// AdminRole is the app role that grants admin rights.
const AdminRole = "WebScheduler.Admin"

// IsAdmin reports whether the principal holds the admin app role.
func (p Principal) IsAdmin() bool {
	for _, r := range p.Roles {
		if r == AdminRole {
			return true
		}
	}
	return false
}

// Profile is the signed-in user as the directory describes them.
type Profile struct {
	ID                string         `json:"id"`
	DisplayName       string         `json:"displayName"`
	GivenName         string         `json:"givenName,omitempty"`
	Surname           string         `json:"surname,omitempty"`
	Mail              string         `json:"mail"`
	UserPrincipalName string         `json:"userPrincipalName"`
	PrimarySMTP       string         `json:"primarySmtpAddress"`
	SIPAddress        string         `json:"sipAddress,omitempty"`
	ProxyAddresses    []ProxyAddress `json:"proxyAddresses"`
	PreferredLanguage string         `json:"preferredLanguage,omitempty"`
}

// NewProfile fills the derived fields (primary SMTP, SIP address) from the
// proxy addresses, falling back to mail and UPN.
func NewProfile(id, displayName, givenName, surname, mail, upn, lang string, proxies []string) Profile {
	p := Profile{
		ID: id, DisplayName: displayName, GivenName: givenName, Surname: surname,
		Mail: mail, UserPrincipalName: upn, PreferredLanguage: lang,
		ProxyAddresses: ParseProxyAddresses(proxies),
	}
	p.PrimarySMTP = PrimarySMTP(p.ProxyAddresses)
	if p.PrimarySMTP == "" {
		p.PrimarySMTP = mail
	}
	if p.PrimarySMTP == "" {
		p.PrimarySMTP = upn
	}
	p.SIPAddress = SIPAddress(p.ProxyAddresses)
	return p
}

// Directory reads people from the tenant's directory on the caller's behalf.
type Directory interface {
	// Me returns the profile of the user the principal stands for.
	Me(ctx context.Context, p Principal) (Profile, error)
}
