package qoe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// GraphClient is the part of Microsoft Graph the Teams collector needs.
// Tests use the emulated Graph through NewGraphClient.
type GraphClient interface {
	CreateSubscription(ctx context.Context, sub Subscription) (Subscription, error)
	RenewSubscription(ctx context.Context, id string, expires time.Time) (Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
	// GetCallRecord fetches a call record with its sessions and their
	// segments ($expand=sessions($expand=segments)), following paging.
	GetCallRecord(ctx context.Context, id string) (*CallRecord, error)
}

// Subscription is a Graph change-notification subscription.
type Subscription struct {
	ID                       string    `json:"id,omitempty"`
	ChangeType               string    `json:"changeType,omitempty"`
	NotificationURL          string    `json:"notificationUrl,omitempty"`
	LifecycleNotificationURL string    `json:"lifecycleNotificationUrl,omitempty"`
	Resource                 string    `json:"resource,omitempty"`
	ExpirationDateTime       time.Time `json:"expirationDateTime"`
	ClientState              string    `json:"clientState,omitempty"`
}

// CallRecord is microsoft.graph.callRecords.callRecord, with the fields the
// collector reads.
type CallRecord struct {
	ID            string        `json:"id"`
	Version       int64         `json:"version"`
	Type          string        `json:"type"`
	Modalities    []string      `json:"modalities"`
	StartDateTime time.Time     `json:"startDateTime"`
	EndDateTime   time.Time     `json:"endDateTime"`
	Organizer     IdentitySet   `json:"organizer"`
	Sessions      []CallSession `json:"sessions"`
}

// IdentitySet maps an identity kind (user, guest, phone, ...) to the identity.
type IdentitySet map[string]*Identity

// Identity is microsoft.graph.identity (userPrincipalName is set for
// callRecords.userIdentity).
type Identity struct {
	ID                string `json:"id"`
	DisplayName       string `json:"displayName"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// CallSession is microsoft.graph.callRecords.session.
type CallSession struct {
	ID            string        `json:"id"`
	StartDateTime time.Time     `json:"startDateTime"`
	EndDateTime   time.Time     `json:"endDateTime"`
	Caller        *CallEndpoint `json:"caller"`
	Callee        *CallEndpoint `json:"callee"`
	Segments      []CallSegment `json:"segments"`
}

// CallSegment is microsoft.graph.callRecords.segment.
type CallSegment struct {
	ID            string        `json:"id"`
	StartDateTime time.Time     `json:"startDateTime"`
	EndDateTime   time.Time     `json:"endDateTime"`
	Caller        *CallEndpoint `json:"caller"`
	Callee        *CallEndpoint `json:"callee"`
	Media         []CallMedia   `json:"media"`
}

// CallEndpoint is a participantEndpoint or serviceEndpoint.
type CallEndpoint struct {
	Identity  IdentitySet `json:"identity"`
	Name      string      `json:"name"`
	UserAgent *struct {
		HeaderValue   string `json:"headerValue"`
		Platform      string `json:"platform"`
		ProductFamily string `json:"productFamily"`
		Role          string `json:"role"`
	} `json:"userAgent"`
}

// CallMedia is microsoft.graph.callRecords.media. Streams are kept raw so
// that every metric Graph sends is stored, not only those read here.
type CallMedia struct {
	Label         string            `json:"label"`
	CallerDevice  *DeviceInfo       `json:"callerDevice"`
	CalleeDevice  *DeviceInfo       `json:"calleeDevice"`
	CallerNetwork *NetworkInfo      `json:"callerNetwork"`
	CalleeNetwork *NetworkInfo      `json:"calleeNetwork"`
	Streams       []json.RawMessage `json:"streams"`
}

// DeviceInfo names the audio devices of an endpoint.
type DeviceInfo struct {
	CaptureDeviceName string `json:"captureDeviceName"`
	RenderDeviceName  string `json:"renderDeviceName"`
}

// NetworkInfo is the part of microsoft.graph.callRecords.networkInfo used.
type NetworkInfo struct {
	IPAddress      string `json:"ipAddress"`
	Port           int    `json:"port"`
	Subnet         string `json:"subnet"`
	ConnectionType string `json:"connectionType"`
}

// GraphError is an error answer from Graph.
type GraphError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *GraphError) Error() string {
	return fmt.Sprintf("graph: %d %s: %s", e.Status, e.Code, e.Message)
}

func isNotFound(err error) bool {
	var ge *GraphError
	return errors.As(err, &ge) && ge.Status == http.StatusNotFound
}

// graphScope is the app-only scope for Graph (DESIGN §3: always explicit).
const graphScope = "https://graph.microsoft.com/.default"

// restGraph is GraphClient over plain HTTP with app-only tokens.
type restGraph struct {
	base string
	cred azcore.TokenCredential
	hc   *http.Client
}

// NewGraphClient returns a GraphClient for the Graph base URL (for example
// https://graph.microsoft.com/v1.0) authenticating with cred's app-only
// token (the app needs CallRecords.Read.All). hc nil means a client with a
// 30 s timeout.
func NewGraphClient(baseURL string, cred azcore.TokenCredential, hc *http.Client) GraphClient {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &restGraph{base: strings.TrimRight(baseURL, "/"), cred: cred, hc: hc}
}

func (g *restGraph) CreateSubscription(ctx context.Context, sub Subscription) (Subscription, error) {
	var out Subscription
	err := g.do(ctx, http.MethodPost, g.base+"/subscriptions", sub, &out)
	return out, err
}

func (g *restGraph) RenewSubscription(ctx context.Context, id string, expires time.Time) (Subscription, error) {
	var out Subscription
	body := map[string]string{"expirationDateTime": expires.UTC().Format(time.RFC3339Nano)}
	err := g.do(ctx, http.MethodPatch, g.base+"/subscriptions/"+url.PathEscape(id), body, &out)
	return out, err
}

func (g *restGraph) DeleteSubscription(ctx context.Context, id string) error {
	return g.do(ctx, http.MethodDelete, g.base+"/subscriptions/"+url.PathEscape(id), nil, nil)
}

func (g *restGraph) GetCallRecord(ctx context.Context, id string) (*CallRecord, error) {
	var rec struct {
		CallRecord
		NextLink string `json:"sessions@odata.nextLink"`
	}
	u := g.base + "/communications/callRecords/" + url.PathEscape(id) + "?$expand=" + url.QueryEscape("sessions($expand=segments)")
	if err := g.do(ctx, http.MethodGet, u, nil, &rec); err != nil {
		return nil, err
	}
	// More than a page of sessions: the rest come from the next links.
	for next, pages := rec.NextLink, 0; next != ""; pages++ {
		if pages >= 100 {
			return nil, errors.New("graph: too many pages of sessions")
		}
		var page struct {
			Value    []CallSession `json:"value"`
			NextLink string        `json:"@odata.nextLink"`
		}
		if err := g.do(ctx, http.MethodGet, next, nil, &page); err != nil {
			return nil, err
		}
		rec.Sessions = append(rec.Sessions, page.Value...)
		next = page.NextLink
	}
	return &rec.CallRecord, nil
}

// do sends one request. It refuses URLs outside the base URL, so that a
// next link cannot send the token elsewhere.
func (g *restGraph) do(ctx context.Context, method, u string, in, out any) error {
	if !strings.HasPrefix(u, g.base+"/") {
		return fmt.Errorf("graph: refusing URL outside %s", g.base)
	}
	tok, err := g.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graphScope}})
	if err != nil {
		return fmt.Errorf("graph: token: %w", err)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := g.hc.Do(req)
	if err != nil {
		return fmt.Errorf("graph: %s: %w", method, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("graph: read: %w", err)
	}
	if res.StatusCode >= 300 {
		ge := &GraphError{Status: res.StatusCode, Message: http.StatusText(res.StatusCode)}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
			ge.Code, ge.Message = e.Error.Code, e.Error.Message
		}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			ge.RetryAfter = time.Duration(s) * time.Second
		}
		return ge
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("graph: decode %s: %w", method, err)
	}
	return nil
}
