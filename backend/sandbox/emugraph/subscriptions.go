package emugraph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Change-notification subscriptions, as Graph runs them: creating (or
// moving) one first calls the notification URL with a validationToken that
// must come back as text/plain within 10 s; notifications carry the
// subscription's clientState; an expired subscription is gone.

const (
	callRecordsResource = "communications/callRecords"
	// maxCallRecordsLifetime is Graph's limit for callRecord subscriptions.
	maxCallRecordsLifetime = 4230 * time.Minute
	maxClientState         = 128
	validationTimeout      = 10 * time.Second
	notificationTimeout    = 30 * time.Second
)

// Subscription is a change-notification subscription, for inspection.
type Subscription struct {
	ID                       string
	Resource                 string
	ChangeType               string
	NotificationURL          string
	LifecycleNotificationURL string
	ClientState              string
	Expiration               time.Time
	TenantID                 string
}

type subscription struct{ Subscription }

// Subscriptions lists the subscriptions that have not expired.
func (s *Server) Subscriptions() []Subscription {
	s.comms.mu.Lock()
	defer s.comms.mu.Unlock()
	var out []Subscription
	for _, sub := range s.comms.subs {
		if s.now().Before(sub.Expiration) {
			out = append(out, sub.Subscription)
		}
	}
	slices.SortFunc(out, func(a, b Subscription) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// RemoveSubscription deletes a subscription as Graph may on its own, and
// sends the subscriptionRemoved lifecycle event when the subscriber asked
// for lifecycle notifications.
func (s *Server) RemoveSubscription(ctx context.Context, id string) error {
	s.comms.mu.Lock()
	sub := s.comms.subs[id]
	delete(s.comms.subs, id)
	s.comms.mu.Unlock()
	if sub == nil {
		return fmt.Errorf("emugraph: no subscription %q", id)
	}
	if sub.LifecycleNotificationURL == "" {
		return nil
	}
	return s.post(ctx, sub.LifecycleNotificationURL, map[string]any{"value": []any{map[string]any{
		"subscriptionId":                 sub.ID,
		"subscriptionExpirationDateTime": sub.Expiration.Format(time.RFC3339Nano),
		"tenantId":                       sub.TenantID,
		"clientState":                    sub.ClientState,
		"lifecycleEvent":                 "subscriptionRemoved",
	}}})
}

// subscriptionJSON is a subscription as Graph returns it.
func (c *call) subscriptionJSON(sub *subscription) map[string]any {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return map[string]any{
		"@odata.context":            c.root + "/$metadata#subscriptions/$entity",
		"id":                        sub.ID,
		"resource":                  sub.Resource,
		"applicationId":             nil,
		"changeType":                sub.ChangeType,
		"clientState":               orNull(sub.ClientState),
		"notificationUrl":           sub.NotificationURL,
		"lifecycleNotificationUrl":  orNull(sub.LifecycleNotificationURL),
		"expirationDateTime":        sub.Expiration.Format("2006-01-02T15:04:05.0000000Z"),
		"creatorId":                 nil,
		"includeResourceData":       false,
		"latestSupportedTlsVersion": "v1_2",
		"encryptionCertificate":     nil,
		"encryptionCertificateId":   nil,
		"notificationQueryOptions":  nil,
		"notificationUrlAppId":      nil,
	}
}

// subscriptionInput is what a client may send to create or update.
type subscriptionInput struct {
	ChangeType               *string    `json:"changeType"`
	NotificationURL          *string    `json:"notificationUrl"`
	LifecycleNotificationURL *string    `json:"lifecycleNotificationUrl"`
	Resource                 *string    `json:"resource"`
	ExpirationDateTime       *time.Time `json:"expirationDateTime"`
	ClientState              *string    `json:"clientState"`
	LatestSupportedTLS       *string    `json:"latestSupportedTlsVersion"`
	IncludeResourceData      *bool      `json:"includeResourceData"`
}

func (c *call) readSubscription(in *subscriptionInput) bool {
	if !c.decode(&map[string]any{}) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		c.fail(errorf(http.StatusBadRequest, "BadRequest", "Invalid subscription payload: %v", err))
		return false
	}
	return true
}

// createSubscription serves POST /subscriptions.
func (c *call) createSubscription() {
	if !c.allowQuery() {
		return
	}
	var in subscriptionInput
	if !c.readSubscription(&in) {
		return
	}
	for name, v := range map[string]*string{"changeType": in.ChangeType, "notificationUrl": in.NotificationURL, "resource": in.Resource} {
		if v == nil || *v == "" {
			c.fail(errorf(http.StatusBadRequest, "InvalidRequest", "The property '%s' is required.", name))
			return
		}
	}
	if in.ExpirationDateTime == nil {
		c.fail(errorf(http.StatusBadRequest, "InvalidRequest", "The property 'expirationDateTime' is required."))
		return
	}
	resource := strings.TrimPrefix(*in.Resource, "/")
	if !strings.EqualFold(resource, callRecordsResource) {
		c.fail(errorf(http.StatusBadRequest, "InvalidRequest", "Resource '%s' is not supported by this emulated Graph (only %s).", *in.Resource, callRecordsResource))
		return
	}
	if !c.requireRole(callRecordsRole) {
		return
	}
	for _, ct := range strings.Split(*in.ChangeType, ",") {
		if strings.TrimSpace(ct) != "created" {
			c.fail(errorf(http.StatusBadRequest, "InvalidRequest", "ChangeType '%s' is not supported for resource '%s'; supported: created.", ct, callRecordsResource))
			return
		}
	}
	if in.IncludeResourceData != nil && *in.IncludeResourceData {
		c.fail(errorf(http.StatusBadRequest, "InvalidRequest", "Rich notifications are not supported for resource '%s'.", callRecordsResource))
		return
	}
	sub := &subscription{Subscription{
		ID: newUUID(), Resource: *in.Resource, ChangeType: *in.ChangeType,
		NotificationURL: *in.NotificationURL, TenantID: c.caller.TenantID,
	}}
	if in.ClientState != nil {
		sub.ClientState = *in.ClientState
	}
	if in.LifecycleNotificationURL != nil {
		sub.LifecycleNotificationURL = *in.LifecycleNotificationURL
	}
	if aerr := c.s.checkSubscription(sub, *in.ExpirationDateTime); aerr != nil {
		c.fail(aerr)
		return
	}
	for _, u := range []string{sub.NotificationURL, sub.LifecycleNotificationURL} {
		if aerr := c.s.validateEndpoint(c.r.Context(), u); aerr != nil {
			c.fail(aerr)
			return
		}
	}
	c.s.comms.mu.Lock()
	c.s.comms.subs[sub.ID] = sub
	c.s.comms.mu.Unlock()
	c.reply(http.StatusCreated, c.subscriptionJSON(sub))
}

// checkSubscription applies Graph's limits and sets the expiration.
func (s *Server) checkSubscription(sub *subscription, expires time.Time) *apiError {
	now := s.now()
	switch {
	case !expires.After(now):
		return errorf(http.StatusBadRequest, "InvalidRequest", "Subscription expiration must be in the future.")
	case expires.Sub(now) > maxCallRecordsLifetime:
		return errorf(http.StatusBadRequest, "InvalidRequest", "Subscription expiration can only be %d minutes in the future.", int(maxCallRecordsLifetime/time.Minute))
	case len(sub.ClientState) > maxClientState:
		return errorf(http.StatusBadRequest, "InvalidRequest", "clientState may not exceed %d characters.", maxClientState)
	}
	for _, raw := range []string{sub.NotificationURL, sub.LifecycleNotificationURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err != nil || u.Scheme != "https" || u.Host == "" {
			return errorf(http.StatusBadRequest, "InvalidRequest", "The notification URL '%s' must be an absolute https URL.", raw)
		}
	}
	sub.Expiration = expires.UTC()
	return nil
}

// validateEndpoint is Graph's validation handshake: POST the URL with a
// validationToken; the endpoint must answer 200, text/plain, with the
// token (URL-decoded) as the whole body, within 10 seconds.
func (s *Server) validateEndpoint(ctx context.Context, raw string) *apiError {
	if raw == "" {
		return nil
	}
	failed := func(why string) *apiError {
		return errorf(http.StatusBadRequest, "ValidationError", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. (%s)", why)
	}
	token := "Validation: Testing client application reachability for subscription Request-Id: " + newUUID()
	u, _ := url.Parse(raw)
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return failed(err.Error())
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	res, err := s.comms.client.Do(req)
	if err != nil {
		return failed(err.Error())
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	switch ct := res.Header.Get("Content-Type"); {
	case res.StatusCode != http.StatusOK:
		return failed(fmt.Sprintf("status %d", res.StatusCode))
	case !strings.HasPrefix(strings.ToLower(ct), "text/plain"):
		return failed("Content-Type " + ct)
	case string(body) != token:
		return failed("the body is not the validation token")
	}
	return nil
}

// findSubscription returns the addressed live subscription or answers 404.
func (c *call) findSubscription() *subscription {
	c.s.comms.mu.Lock()
	defer c.s.comms.mu.Unlock()
	sub := c.s.comms.subs[c.id]
	if sub == nil || !c.s.now().Before(sub.Expiration) {
		c.fail(errorf(http.StatusNotFound, "ResourceNotFound", "The object was not found."))
		return nil
	}
	return sub
}

func (c *call) getSubscription() {
	if !c.allowQuery() || !c.requireRole(callRecordsRole) {
		return
	}
	if sub := c.findSubscription(); sub != nil {
		c.reply(http.StatusOK, c.subscriptionJSON(sub))
	}
}

// updateSubscription serves PATCH /subscriptions/{id}: renewal (a new
// expirationDateTime) and moving the notification URL (validated again).
func (c *call) updateSubscription() {
	if !c.allowQuery() || !c.requireRole(callRecordsRole) {
		return
	}
	var in subscriptionInput
	if !c.readSubscription(&in) {
		return
	}
	if in.ChangeType != nil || in.Resource != nil || in.ClientState != nil || in.IncludeResourceData != nil {
		c.fail(errorf(http.StatusBadRequest, "InvalidRequest", "Only expirationDateTime, notificationUrl and lifecycleNotificationUrl can be updated."))
		return
	}
	sub := c.findSubscription()
	if sub == nil {
		return
	}
	next := &subscription{sub.Subscription}
	if in.NotificationURL != nil {
		next.NotificationURL = *in.NotificationURL
	}
	if in.LifecycleNotificationURL != nil {
		next.LifecycleNotificationURL = *in.LifecycleNotificationURL
	}
	expires := next.Expiration
	if in.ExpirationDateTime != nil {
		expires = *in.ExpirationDateTime
	}
	if aerr := c.s.checkSubscription(next, expires); aerr != nil {
		c.fail(aerr)
		return
	}
	if in.NotificationURL != nil {
		if aerr := c.s.validateEndpoint(c.r.Context(), next.NotificationURL); aerr != nil {
			c.fail(aerr)
			return
		}
	}
	c.s.comms.mu.Lock()
	c.s.comms.subs[next.ID] = next
	c.s.comms.mu.Unlock()
	c.reply(http.StatusOK, c.subscriptionJSON(next))
}

func (c *call) deleteSubscription() {
	if !c.allowQuery() || !c.requireRole(callRecordsRole) {
		return
	}
	if sub := c.findSubscription(); sub != nil {
		c.s.comms.mu.Lock()
		delete(c.s.comms.subs, sub.ID)
		c.s.comms.mu.Unlock()
		c.w.WriteHeader(http.StatusNoContent)
	}
}

// notify sends a change notification to every live subscription to
// resource with changeType, one POST per subscription, and returns the
// delivery failures (a subscriber must answer 2xx).
func (s *Server) notify(ctx context.Context, resource, changeType, path string, data map[string]any) error {
	s.comms.mu.Lock()
	var targets []Subscription
	for _, sub := range s.comms.subs {
		if s.now().Before(sub.Expiration) && strings.EqualFold(strings.TrimPrefix(sub.Resource, "/"), resource) &&
			slices.Contains(strings.Split(sub.ChangeType, ","), changeType) {
			targets = append(targets, sub.Subscription)
		}
	}
	s.comms.mu.Unlock()
	var errs []error
	for _, sub := range targets {
		err := s.post(ctx, sub.NotificationURL, map[string]any{"value": []any{map[string]any{
			"subscriptionId":                 sub.ID,
			"subscriptionExpirationDateTime": sub.Expiration.Format(time.RFC3339Nano),
			"changeType":                     changeType,
			"resource":                       path,
			"resourceData":                   data,
			"clientState":                    sub.ClientState,
			"tenantId":                       sub.TenantID,
		}}})
		if err != nil {
			errs = append(errs, fmt.Errorf("subscription %s: %w", sub.ID, err))
		}
	}
	return errors.Join(errs...)
}

// post delivers one notification payload.
func (s *Server) post(ctx context.Context, u string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, notificationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := s.comms.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("notification to %s answered %d", u, res.StatusCode)
	}
	return nil
}
