package emugraph

import (
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// userDefaults are the properties Graph returns for a user without $select.
var userDefaults = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

// userJSON is every user property the emulator models.
func userJSON(u *User) map[string]any {
	orNull := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	proxies := append([]string{}, u.ProxyAddresses...)
	im := []string{}
	for _, p := range proxies {
		if typ, addr, ok := strings.Cut(p, ":"); ok && strings.EqualFold(typ, "sip") {
			im = append(im, addr)
		}
	}
	nick, _, _ := strings.Cut(u.UPN, "@")
	return map[string]any{
		"id":                u.ID,
		"userPrincipalName": u.UPN,
		"displayName":       orNull(u.DisplayName),
		"givenName":         orNull(u.GivenName),
		"surname":           orNull(u.Surname),
		"mail":              orNull(u.Mail),
		"preferredLanguage": orNull(u.PreferredLanguage),
		"jobTitle":          orNull(u.JobTitle),
		"businessPhones":    []string{},
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"proxyAddresses":    proxies,
		"imAddresses":       im,
		"mailNickname":      nick,
		"accountEnabled":    true,
		"userType":          "Member",
		"otherMails":        []string{},
	}
}

// userSelect parses $select for a user: canonical names of the properties to
// return, nil for Graph's default set. A property of the user type that the
// emulator does not model is accepted and left out of the response.
func (c *call) userSelect() ([]string, bool) {
	v := c.r.URL.Query().Get("$select")
	if v == "" {
		return nil, true
	}
	// Modelled names first, so the canonical spelling comes from them.
	candidates := slices.Sorted(maps.Keys(userJSON(&User{})))
	if c.s.spec != nil {
		candidates = append(candidates, c.s.spec.propertyNames("microsoft.graph.user")...)
	}
	var out []string
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(candidates, func(k string) bool { return strings.EqualFold(k, name) && !strings.HasPrefix(k, "@") })
		if i < 0 {
			c.fail(errorf(http.StatusBadRequest, "Request_BadRequest", "Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.user'.", name))
			return nil, false
		}
		out = append(out, candidates[i])
	}
	return out, true
}

// selectUser renders u with only the selected (or default) properties. Unlike
// Outlook items, a user does not get its id added to a $select.
func selectUser(u *User, sel []string) map[string]any {
	all, out := userJSON(u), map[string]any{}
	if sel == nil {
		sel = userDefaults
	}
	for _, k := range sel {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

// getUser serves GET /me and GET /users/{id or UPN}.
func (c *call) getUser() {
	if !c.allowQuery("$select") {
		return
	}
	sel, ok := c.userSelect()
	if !ok {
		return
	}
	out := selectUser(c.owner, sel)
	out["@odata.context"] = c.root + "/$metadata#users/$entity"
	if sel != nil {
		out["@odata.context"] = c.root + "/$metadata#users(" + strings.Join(sel, ",") + ")/$entity"
	}
	c.reply(http.StatusOK, out)
}

var (
	startsWithRE = regexp.MustCompile(`(?i)^startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)$`)
	eqRE         = regexp.MustCompile(`(?i)^(\w+)\s+eq\s+'((?:[^']|'')*)'$`)
	userFilters  = []string{"displayName", "givenName", "surname", "mail", "userPrincipalName", "id"}
)

// parseUserFilter parses clauses "startswith(prop,'x')" and "prop eq 'x'"
// joined by "or", over the properties attendee suggestions search.
func parseUserFilter(s string) (func(*User) bool, bool) {
	type clause struct {
		prop, value string
		prefix      bool
	}
	var clauses []clause
	for _, part := range splitTop(s, " or ") {
		part = strings.TrimSpace(part)
		m, prefix := startsWithRE.FindStringSubmatch(part), true
		if m == nil {
			m, prefix = eqRE.FindStringSubmatch(part), false
		}
		if m == nil {
			return nil, false
		}
		i := slices.IndexFunc(userFilters, func(p string) bool { return strings.EqualFold(p, m[1]) })
		if i < 0 {
			return nil, false
		}
		clauses = append(clauses, clause{prop: userFilters[i], value: strings.ToLower(unquote(m[2])), prefix: prefix})
	}
	return func(u *User) bool {
		props := userJSON(u)
		for _, cl := range clauses {
			v, _ := props[cl.prop].(string)
			v = strings.ToLower(v)
			if cl.prefix && strings.HasPrefix(v, cl.value) || !cl.prefix && v == cl.value {
				return true
			}
		}
		return false
	}, true
}

// listUsers serves GET /users, which the spec subset does not cover: the
// query is checked by hand and each user against the spec's user schema.
func (c *call) listUsers() {
	if !c.allowQuery("$filter", "$select", "$top", "$skiptoken") {
		return
	}
	q := c.r.URL.Query()
	match := func(*User) bool { return true }
	if f := q.Get("$filter"); f != "" {
		var ok bool
		if match, ok = parseUserFilter(f); !ok {
			c.fail(errorf(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query. The emulator supports startswith(prop,'x') and prop eq 'x' joined by or, on %s.", strings.Join(userFilters, ", ")))
			return
		}
	}
	top := 100
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			c.fail(errorf(http.StatusBadRequest, "Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v))
			return
		}
		top = n
	}
	sel, ok := c.userSelect()
	if !ok {
		return
	}
	skip, ok := skipToken(q)
	if !ok {
		c.fail(errorf(http.StatusBadRequest, "Request_BadRequest", "Invalid $skiptoken."))
		return
	}
	values, matched := []any{}, 0
	for i := range c.s.users {
		if u := &c.s.users[i]; match(u) {
			if matched >= skip && len(values) < top {
				values = append(values, selectUser(u, sel))
			}
			matched++
		}
	}
	if !c.conform("microsoft.graph.user", values...) {
		return
	}
	ctx := c.root + "/$metadata#users"
	if sel != nil {
		ctx += "(" + strings.Join(sel, ",") + ")"
	}
	out := map[string]any{"@odata.context": ctx, "value": values}
	if matched > skip+len(values) {
		out["@odata.nextLink"] = skipTokenLink(c.root, c.r, skip+len(values))
	}
	c.reply(http.StatusOK, out)
}

// mailboxSettings serves GET .../mailboxSettings, which the spec subset does
// not cover as a path; the response is checked against its schema.
func (c *call) mailboxSettings() {
	if !c.allowQuery("$select") {
		return
	}
	tz := c.owner.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	locale := c.owner.PreferredLanguage
	if locale == "" {
		locale = "en-US"
	}
	settings := map[string]any{
		"timeZone": tz,
		"automaticRepliesSetting": map[string]any{
			"status": "disabled", "externalAudience": "all",
			"internalReplyMessage": "", "externalReplyMessage": "",
			"scheduledStartDateTime": map[string]any{"dateTime": "2024-01-01T00:00:00.0000000", "timeZone": "UTC"},
			"scheduledEndDateTime":   map[string]any{"dateTime": "2024-01-02T00:00:00.0000000", "timeZone": "UTC"},
		},
		"language":   map[string]any{"locale": locale, "displayName": locale},
		"dateFormat": "yyyy-MM-dd",
		"timeFormat": "HH:mm",
		"workingHours": map[string]any{
			"daysOfWeek": []string{"monday", "tuesday", "wednesday", "thursday", "friday"},
			"startTime":  "08:00:00.0000000", "endTime": "17:00:00.0000000",
			"timeZone": map[string]any{"name": tz},
		},
		"userPurpose":                           "user",
		"delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
	}
	if v := c.r.URL.Query().Get("$select"); v != "" {
		picked := map[string]any{}
		for _, name := range strings.Split(v, ",") {
			val, ok := settings[strings.TrimSpace(name)]
			if !ok {
				c.fail(errorf(http.StatusBadRequest, "BadRequest", "Could not find a property named '%s' on type 'microsoft.graph.mailboxSettings'.", strings.TrimSpace(name)))
				return
			}
			picked[strings.TrimSpace(name)] = val
		}
		settings = picked
	}
	if !c.conform("microsoft.graph.mailboxSettings", settings) {
		return
	}
	settings["@odata.context"] = c.root + "/$metadata#users('" + c.owner.ID + "')/mailboxSettings"
	c.reply(http.StatusOK, settings)
}
