package entra

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/webscheduler/webscheduler/backend/scheduler"
	"github.com/webscheduler/webscheduler/backend/secret"
)

// GraphScope is the scope every Graph token is requested for: Graph takes
// the app's configured permissions from ".default".
const GraphScope = "https://graph.microsoft.com/.default"

// Credentials authenticate the app itself to Entra ID: a secret or a
// certificate, never both.
type Credentials struct {
	ClientID string
	Secret   string
	Certs    []*x509.Certificate
	Key      crypto.PrivateKey
}

// ClientOptions are the azidentity options for an authority host. Outside
// Microsoft's clouds instance discovery must be off, or MSAL asks
// login.microsoftonline.com and stalls offline.
func ClientOptions(authorityHost string, transport policy.Transporter) azcore.ClientOptions {
	o := azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: authorityHost}}
	if transport != nil {
		o.Transport = transport
	}
	return o
}

func isMicrosoftCloud(host string) bool {
	for _, c := range []cloud.Configuration{cloud.AzurePublic, cloud.AzureGovernment, cloud.AzureChina} {
		if strings.EqualFold(strings.TrimSuffix(c.ActiveDirectoryAuthorityHost, "/"), strings.TrimSuffix(host, "/")) {
			return true
		}
	}
	return false
}

// OnBehalfOf exchanges a user's SSO token for a Graph token and keeps the
// result sealed in a TokenCache, so one sign-in costs one exchange until
// the Graph token expires, on every replica.
type OnBehalfOf struct {
	AuthorityHost string
	Tenant        string
	Creds         Credentials
	Transport     policy.Transporter // nil: azcore's default
	Cache         scheduler.TokenCache
	Box           *secret.Box
	Now           func() time.Time

	// mem keeps what the shared cache returned in this process too, so a
	// request with several Graph calls reads and opens it once, not once
	// per call. Tokens are not revoked before they expire, so this answers
	// just as the shared cache would.
	mem memo[string, azcore.AccessToken]
}

type cachedToken struct {
	Token   string    `json:"t"`
	Expires time.Time `json:"e"`
}

// Token returns a Graph token for the principal.
func (o *OnBehalfOf) Token(ctx context.Context, p scheduler.Principal) (azcore.AccessToken, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	key := o.Box.Key("graph-token", p.TID, p.OID)
	if tok, ok := o.mem.get(key, now().Add(time.Minute)); ok {
		return tok, nil
	}
	// The cache only saves exchanges: when the store cannot answer, exchange
	// anyway, so that a request the store fails in the middle can still put
	// a calendar item back in order (meeting.writeCalendar).
	if sealed, err := o.Cache.Token(ctx, key); err == nil {
		if plain, err := o.Box.Open(sealed, "tok:"+key); err == nil {
			var ct cachedToken
			if json.Unmarshal(plain, &ct) == nil && now().Add(time.Minute).Before(ct.Expires) {
				tok := azcore.AccessToken{Token: ct.Token, ExpiresOn: ct.Expires}
				o.mem.put(key, tok, ct.Expires, now())
				return tok, nil
			}
		}
	}

	tenant := p.TID
	if tenant == "" {
		tenant = o.Tenant
	}
	// One credential per assertion: MSAL caches per credential object, and
	// our own cache above is what spans requests and replicas.
	cred, err := o.credential(tenant, p.Assertion)
	if err != nil {
		return azcore.AccessToken{}, scheduler.Wrap(scheduler.ECodeOBOFailed, "Could not sign in to Microsoft Graph on your behalf.", err)
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{GraphScope}, TenantID: tenant})
	if err != nil {
		return azcore.AccessToken{}, oboError(err)
	}
	plain, _ := json.Marshal(cachedToken{Token: tok.Token, Expires: tok.ExpiresOn})
	if ttl := tok.ExpiresOn.Sub(now()) - time.Minute; ttl > 0 {
		_ = o.Cache.SaveToken(ctx, key, o.Box.Seal(plain, "tok:"+key), ttl)
		o.mem.put(key, tok, tok.ExpiresOn, now())
	}
	return tok, nil
}

func (o *OnBehalfOf) credential(tenant, assertion string) (azcore.TokenCredential, error) {
	opts := ClientOptions(o.AuthorityHost, o.Transport)
	disable := !isMicrosoftCloud(o.AuthorityHost)
	if o.Creds.Secret != "" {
		return azidentity.NewOnBehalfOfCredentialWithSecret(tenant, o.Creds.ClientID, assertion, o.Creds.Secret,
			&azidentity.OnBehalfOfCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable})
	}
	return azidentity.NewOnBehalfOfCredentialWithCertificate(tenant, o.Creds.ClientID, assertion, o.Creds.Certs, o.Creds.Key,
		&azidentity.OnBehalfOfCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable, SendCertificateChain: true})
}

// AppCredential returns the app's own credential (client credentials), for
// jobs that work across mailboxes with application permissions.
func AppCredential(authorityHost, tenant string, creds Credentials, transport policy.Transporter) (azcore.TokenCredential, error) {
	opts := ClientOptions(authorityHost, transport)
	disable := !isMicrosoftCloud(authorityHost)
	if creds.Secret != "" {
		return azidentity.NewClientSecretCredential(tenant, creds.ClientID, creds.Secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable})
	}
	return azidentity.NewClientCertificateCredential(tenant, creds.ClientID, creds.Certs, creds.Key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable, SendCertificateChain: true})
}

// oboError turns an azidentity failure into a stable code. Consent
// problems (AADSTS65001, interaction_required) tell the add-in to ask the
// user again; anything else is a failed exchange.
func oboError(err error) error {
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		msg := afe.Error()
		if strings.Contains(msg, "AADSTS65001") || strings.Contains(msg, "consent_required") || strings.Contains(msg, "interaction_required") {
			return scheduler.Wrap(scheduler.ECodeConsentRequired, "Consent is required before Web Scheduler can use your calendar.", err)
		}
		if afe.RawResponse.StatusCode == http.StatusTooManyRequests || afe.RawResponse.StatusCode >= 500 {
			return scheduler.Wrap(scheduler.ECodeUnavailable, "Microsoft Entra ID is unavailable; try again shortly.", err)
		}
	}
	return scheduler.Wrap(scheduler.ECodeOBOFailed, "Could not sign in to Microsoft Graph on your behalf.", err)
}

// UserCredential is an azcore.TokenCredential for the user the request's
// context carries (see WithPrincipal): one Graph client serves every user.
type UserCredential struct{ OBO *OnBehalfOf }

type principalKey struct{}

// WithPrincipal returns ctx carrying p for UserCredential.
func WithPrincipal(ctx context.Context, p scheduler.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal WithPrincipal stored.
func PrincipalFrom(ctx context.Context) (scheduler.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(scheduler.Principal)
	return p, ok
}

// GetToken implements azcore.TokenCredential.
func (u UserCredential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok || p.Assertion == "" {
		return azcore.AccessToken{}, errors.New("entra: no signed-in user in context")
	}
	return u.OBO.Token(ctx, p)
}
