package emugraph

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// event is a calendar item (always a single instance) as the mailbox stores it.
type event struct {
	id, iCalUID, changeKey string
	created, modified      time.Time
	start, end             time.Time // instants
	startZone, endZone     string    // the zones the client gave (originalStartTimeZone)
	body                   itemBody  // as "Exchange" stored it: always HTML
	organizer              emailAddress
	isOrganizer            bool
	isOnline               bool
	provider               string
	online                 *onlineInfo // the Teams meeting behind an online event
	props                  map[string]json.RawMessage
	ext                    []extProp
}

type itemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type emailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type extProp struct {
	ID    string  `json:"id"`
	Value *string `json:"value"`
}

type onlineInfo struct {
	JoinURL      string `json:"joinUrl"`
	ConferenceID string `json:"conferenceId"`
	TollNumber   string `json:"tollNumber"`
}

// propKind says what a client may do with an event property.
type propKind int

const (
	propPlain      propKind = iota // stored as sent; plainDefaults has its default
	propSpecial                    // interpreted by applyEvent
	propComputed                   // set by the server; ignored in requests, as Graph does
	propNavigation                 // a relationship Graph has and the emulator refuses in bodies
)

// eventProps lists every property of microsoft.graph.event and its base types
// (TestEventPropsMatchSpec keeps it in step with the spec).
var eventProps = map[string]propKind{
	"allowNewTimeProposals": propPlain, "categories": propPlain, "hideAttendees": propPlain,
	"importance": propPlain, "isAllDay": propPlain, "isDraft": propPlain, "isReminderOn": propPlain,
	"reminderMinutesBeforeStart": propPlain, "responseRequested": propPlain, "sensitivity": propPlain,
	"showAs": propPlain, "subject": propPlain, "transactionId": propPlain,

	"attendees": propSpecial, "body": propSpecial, "end": propSpecial, "isOnlineMeeting": propSpecial,
	"location": propSpecial, "locations": propSpecial, "onlineMeetingProvider": propSpecial,
	"organizer": propSpecial, "recurrence": propSpecial, "singleValueExtendedProperties": propSpecial,
	"start": propSpecial,

	"bodyPreview": propComputed, "cancelledOccurrences": propComputed, "changeKey": propComputed,
	"createdDateTime": propComputed, "hasAttachments": propComputed, "iCalUId": propComputed,
	"id": propComputed, "isCancelled": propComputed, "isOrganizer": propComputed,
	"lastModifiedDateTime": propComputed, "onlineMeeting": propComputed, "onlineMeetingUrl": propComputed,
	"originalEndTimeZone": propComputed, "originalStart": propComputed, "originalStartTimeZone": propComputed,
	"responseStatus": propComputed, "seriesMasterId": propComputed, "type": propComputed, "webLink": propComputed,

	"calendar": propNavigation, "exceptionOccurrences": propNavigation, "instances": propNavigation,
	"multiValueExtendedProperties": propNavigation, "attachments": propNavigation, "extensions": propNavigation,
}

// plainDefaults are what Graph reports for plain properties never set.
var plainDefaults = map[string]any{
	"allowNewTimeProposals": true, "categories": []string{}, "hideAttendees": false,
	"importance": "normal", "isAllDay": false, "isDraft": false, "isReminderOn": true,
	"reminderMinutesBeforeStart": 15, "responseRequested": true, "sensitivity": "normal",
	"showAs": "busy", "subject": "", "transactionId": nil,
}

var enums = map[string][]string{
	"importance":            {"low", "normal", "high"},
	"sensitivity":           {"normal", "personal", "private", "confidential"},
	"showAs":                {"unknown", "free", "tentative", "busy", "oof", "workingElsewhere"},
	"onlineMeetingProvider": {"unknown", "skypeForBusiness", "skypeForConsumer", "teamsForBusiness"},
	"contentType":           {"text", "html"},
	"attendeeType":          {"required", "optional", "resource"},
}

// eventPropertyName returns the canonical name of a selectable property.
func eventPropertyName(name string) (string, bool) {
	for k, kind := range eventProps {
		if strings.EqualFold(k, name) && kind != propNavigation && k != "singleValueExtendedProperties" {
			return k, true
		}
	}
	return "", false
}

// localLayout is how Graph writes dateTimeTimeZone.dateTime.
const localLayout = "2006-01-02T15:04:05.0000000"

// instantLayout is how Graph writes DateTimeOffset values.
const instantLayout = "2006-01-02T15:04:05.0000000Z"

// editor is who changes an event: the mailbox owner's identity is the
// organizer of what they create; seeding may also set the organizer.
type editor struct {
	owner   *User
	tenant  string
	seeding bool
}

// newEvent creates an event in owner's mailbox from a POST body.
func (s *Server) newEvent(in map[string]json.RawMessage, ed editor) (*event, *apiError) {
	now := s.now().UTC()
	e := &event{
		id:          newEventID(),
		iCalUID:     "040000008200E00074C5B7101A82E008" + strings.ToUpper(randomHex(40)),
		changeKey:   newChangeKey(),
		created:     now,
		modified:    now,
		organizer:   ownerAddress(ed.owner),
		isOrganizer: true,
		body:        itemBody{ContentType: "html", Content: ""},
		props:       map[string]json.RawMessage{},
	}
	if aerr := s.applyEvent(e, in, ed, true); aerr != nil {
		return nil, aerr
	}
	return e, nil
}

func ownerAddress(u *User) emailAddress {
	addr := u.Mail
	if addr == "" {
		addr = u.UPN
	}
	return emailAddress{Name: u.DisplayName, Address: addr}
}

// applyEvent applies the properties of a POST or PATCH body to e, which the
// caller has cloned so that a refused request leaves the stored event alone.
func (s *Server) applyEvent(e *event, in map[string]json.RawMessage, ed editor, creating bool) *apiError {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	locationSet, locationsSet := false, false
	for _, k := range keys {
		raw := in[k]
		isNull := string(bytes.TrimSpace(raw)) == "null"
		if k == "@odata.type" {
			var t string
			if json.Unmarshal(raw, &t) != nil || t != "#microsoft.graph.event" {
				return errorf(http.StatusBadRequest, "RequestBodyRead", "A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.Trim(string(raw), `"#`))
			}
			continue
		}
		if strings.Contains(k, "@") {
			continue // instance annotations such as @odata.etag
		}
		kind, known := eventProps[k]
		switch {
		case !known:
			return errorf(http.StatusBadRequest, "RequestBodyRead", "The property '%s' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type or mark the type as open type.", k)
		case kind == propComputed:
		case kind == propNavigation:
			return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "emulator: '%s' is not supported in an event body.", k)
		case kind == propPlain:
			if aerr := checkPlain(k, raw); aerr != nil {
				return aerr
			}
			if k == "transactionId" && !creating && e.props[k] != nil && !bytes.Equal(compact(raw), e.props[k]) {
				return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "The transactionId of an event cannot be changed.")
			}
			if isNull {
				delete(e.props, k)
			} else {
				e.props[k] = compact(raw)
			}
		case k == "body":
			var b struct {
				ContentType *string `json:"contentType"`
				Content     *string `json:"content"`
			}
			if err := json.Unmarshal(raw, &b); err != nil {
				return bodyReadError(k, err)
			}
			ct, content := "html", ""
			if b.ContentType != nil {
				ct = *b.ContentType
			}
			if b.Content != nil {
				content = *b.Content
			}
			if !slices.Contains(enums["contentType"], ct) {
				return errorf(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.bodyType'.", ct)
			}
			if ct == "text" {
				content = textToHTML(content)
			} else {
				content = s.rewrite(content)
			}
			e.body = itemBody{ContentType: "html", Content: content}
		case k == "start" || k == "end":
			if aerr := e.applyTime(k, raw); aerr != nil {
				return aerr
			}
		case k == "attendees":
			v, aerr := normalizeAttendees(raw)
			if aerr != nil {
				return aerr
			}
			e.props[k] = v
		case k == "location":
			v, aerr := normalizeLocation(raw)
			if aerr != nil {
				return aerr
			}
			e.props[k], locationSet = v, true
		case k == "locations":
			var list []json.RawMessage
			if err := json.Unmarshal(raw, &list); err != nil {
				return bodyReadError(k, err)
			}
			out := make([]json.RawMessage, 0, len(list))
			for _, l := range list {
				v, aerr := normalizeLocation(l)
				if aerr != nil {
					return aerr
				}
				out = append(out, v)
			}
			e.props[k], locationsSet = mustJSON(out), true
		case k == "isOnlineMeeting":
			var b *bool
			if err := json.Unmarshal(raw, &b); err != nil {
				return bodyReadError(k, err)
			}
			e.isOnline = b != nil && *b
		case k == "onlineMeetingProvider":
			var p *string
			if err := json.Unmarshal(raw, &p); err != nil {
				return bodyReadError(k, err)
			}
			if p != nil && !slices.Contains(enums[k], *p) {
				return errorf(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.onlineMeetingProviderType'.", *p)
			}
			e.provider = ""
			if p != nil {
				e.provider = *p
			}
		case k == "singleValueExtendedProperties":
			if aerr := e.upsertExt(raw); aerr != nil {
				return aerr
			}
		case k == "organizer":
			if !ed.seeding {
				continue // Graph sets the organizer itself
			}
			var o struct {
				EmailAddress emailAddress `json:"emailAddress"`
			}
			if err := json.Unmarshal(raw, &o); err != nil {
				return bodyReadError(k, err)
			}
			e.organizer = o.EmailAddress
			e.isOrganizer = strings.EqualFold(o.EmailAddress.Address, ownerAddress(ed.owner).Address)
		case k == "recurrence":
			if !isNull {
				return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "emulator: recurring events are not supported.")
			}
		}
	}
	if locationSet && !locationsSet {
		e.props["locations"] = deriveLocations(e.props["location"])
	}
	if locationsSet && !locationSet {
		e.props["location"] = joinLocations(e.props["locations"])
	}
	if aerr := e.checkTimes(); aerr != nil {
		return aerr
	}
	if e.isOnline && e.provider == "" {
		e.provider = "teamsForBusiness" // the mailbox's default provider
	}
	switch {
	case !e.isOnline:
		e.online = nil
	case e.provider == "teamsForBusiness" && e.online == nil:
		// Graph creates a Teams meeting and appends its join block to the body.
		conf := randomDigits(9)
		e.online = &onlineInfo{JoinURL: teamsJoinURL(ed.tenant, ed.owner.ID), ConferenceID: conf, TollNumber: "+1 206-555-0100"}
		e.body.Content = insertBeforeBodyEnd(ExchangeHTML(e.body.Content), teamsBlock(e.online))
	}
	return nil
}

func bodyReadError(prop string, err error) *apiError {
	return errorf(http.StatusBadRequest, "RequestBodyRead", "Invalid value for property '%s': %v", prop, err)
}

// checkPlain checks a plain property's JSON type (and enum), which the spec
// also does when it is set; without it this is the only check.
func checkPlain(k string, raw json.RawMessage) *apiError {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return bodyReadError(k, err)
	}
	if v == nil {
		return nil
	}
	ok := false
	switch plainDefaults[k].(type) {
	case bool:
		_, ok = v.(bool)
	case int:
		f, isNum := v.(float64)
		ok = isNum && f == float64(int32(f))
	case []string:
		list, isList := v.([]any)
		ok = isList
		for _, item := range list {
			if _, isStr := item.(string); !isStr {
				ok = false
			}
		}
	case string, nil:
		str, isStr := v.(string)
		ok = isStr && (enums[k] == nil || slices.Contains(enums[k], str))
	}
	if !ok {
		return errorf(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the value %s of property '%s' to its expected type.", raw, k)
	}
	return nil
}

// applyTime merges a start or end {dateTime, timeZone} into the event.
func (e *event) applyTime(which string, raw json.RawMessage) *apiError {
	var in struct {
		DateTime *string `json:"dateTime"`
		TimeZone *string `json:"timeZone"`
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "The %s of an event cannot be null.", which)
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return bodyReadError(which, err)
	}
	t, zone := &e.start, &e.startZone
	if which == "end" {
		t, zone = &e.end, &e.endZone
	}
	dt, z := "", *zone
	if !t.IsZero() {
		loc, _ := loadZone(z)
		dt = t.In(loc).Format(localLayout)
	}
	if in.DateTime != nil {
		dt = *in.DateTime
	}
	if in.TimeZone != nil {
		z = *in.TimeZone
	}
	loc, ok := loadZone(z)
	if !ok {
		return errorf(http.StatusBadRequest, "TimeZoneNotSupportedException", "A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", z)
	}
	v, ok := parseLocal(dt, loc)
	if !ok {
		return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "The %s dateTime '%s' is not a valid date and time.", which, dt)
	}
	*t, *zone = v, z
	return nil
}

// parseLocal reads a Graph dateTime ("2006-01-02T15:04:05[.fffffff]") in loc;
// an explicit offset, which Graph tolerates, wins over loc.
func parseLocal(s string, loc *time.Location) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, loc)
	return t, err == nil
}

func (e *event) checkTimes() *apiError {
	if e.start.IsZero() || e.end.IsZero() {
		return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "An event needs both a start and an end.")
	}
	if e.end.Before(e.start) {
		return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "The end of an event cannot be before its start.")
	}
	var allDay bool
	_ = json.Unmarshal(e.props["isAllDay"], &allDay)
	if allDay {
		sl, _ := loadZone(e.startZone)
		el, _ := loadZone(e.endZone)
		s, en := e.start.In(sl), e.end.In(el)
		midnight := func(t time.Time) bool {
			return t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
		}
		if e.startZone != e.endZone || !midnight(s) || !midnight(en) || !en.After(s) {
			return errorf(http.StatusBadRequest, "ErrorInvalidRequest", "Your request can't be completed. If an event is set to last all day, its start and end must be at midnight in the same time zone.")
		}
	}
	return nil
}

func normalizeAttendees(raw json.RawMessage) (json.RawMessage, *apiError) {
	var in []struct {
		Type         *string `json:"type"`
		EmailAddress *struct {
			Name    *string `json:"name"`
			Address *string `json:"address"`
		} `json:"emailAddress"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, bodyReadError("attendees", err)
	}
	out := make([]any, 0, len(in))
	for _, a := range in {
		if a.EmailAddress == nil || a.EmailAddress.Address == nil || !strings.Contains(*a.EmailAddress.Address, "@") {
			return nil, errorf(http.StatusBadRequest, "ErrorInvalidRecipients", "At least one recipient isn't valid. An attendee needs an email address.")
		}
		typ := "required"
		if a.Type != nil {
			typ = *a.Type
		}
		if !slices.Contains(enums["attendeeType"], typ) {
			return nil, errorf(http.StatusBadRequest, "RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'microsoft.graph.attendeeType'.", typ)
		}
		addr := *a.EmailAddress.Address
		name := addr // Graph fills a missing name with the address
		if a.EmailAddress.Name != nil && *a.EmailAddress.Name != "" {
			name = *a.EmailAddress.Name
		}
		out = append(out, map[string]any{
			"type":         typ,
			"status":       map[string]any{"response": "none", "time": "0001-01-01T00:00:00Z"},
			"emailAddress": emailAddress{Name: name, Address: addr},
		})
	}
	return mustJSON(out), nil
}

// normalizeLocation fills the defaults Graph reports for a location.
func normalizeLocation(raw json.RawMessage) (json.RawMessage, *apiError) {
	var loc map[string]any
	if err := json.Unmarshal(raw, &loc); err != nil {
		return nil, bodyReadError("location", err)
	}
	if loc == nil {
		loc = map[string]any{}
	}
	name, ok := loc["displayName"].(string)
	if _, present := loc["displayName"]; present && !ok && loc["displayName"] != nil {
		return nil, errorf(http.StatusBadRequest, "RequestBodyRead", "location.displayName must be a string.")
	}
	delete(loc, "@odata.type")
	defaults := map[string]any{"displayName": "", "locationType": "default", "uniqueIdType": "unknown"}
	if name != "" {
		defaults["uniqueId"], defaults["uniqueIdType"] = name, "private"
	}
	for k, v := range defaults {
		if loc[k] == nil {
			loc[k] = v
		}
	}
	return mustJSON(loc), nil
}

// emptyLocation is what Graph reports for an event without a location.
var emptyLocation = map[string]any{"displayName": "", "locationType": "default", "uniqueIdType": "unknown"}

func deriveLocations(loc json.RawMessage) json.RawMessage {
	var l struct {
		DisplayName string `json:"displayName"`
	}
	_ = json.Unmarshal(loc, &l)
	if l.DisplayName == "" {
		return json.RawMessage("[]")
	}
	return mustJSON([]json.RawMessage{loc})
}

func joinLocations(list json.RawMessage) json.RawMessage {
	var ls []struct {
		DisplayName string `json:"displayName"`
	}
	_ = json.Unmarshal(list, &ls)
	var names []string
	for _, l := range ls {
		if l.DisplayName != "" {
			names = append(names, l.DisplayName)
		}
	}
	v, _ := normalizeLocation(mustJSON(map[string]any{"displayName": strings.Join(names, "; ")}))
	return v
}

// extIDRE is the form of a single-value extended property ID: a MAPI type
// and either a proptag or a property set GUID with a name or a numeric ID.
var extIDRE = regexp.MustCompile(`(?i)^(Binary|Boolean|CLSID|Currency|Double|Float|Integer|Long|Object|Short|String|SystemTime|ApplicationTime) (0x[0-9a-f]{1,4}|\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\} (Name \S.*|Id 0x[0-9a-f]{1,4}))$`)

// upsertExt applies singleValueExtendedProperties from a body: each is
// created or, when one with the same ID exists, replaced; a null value
// removes it.
func (e *event) upsertExt(raw json.RawMessage) *apiError {
	var in []struct {
		ID    *string `json:"id"`
		Value *string `json:"value"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return bodyReadError("singleValueExtendedProperties", err)
	}
	for _, p := range in {
		if p.ID == nil {
			return errorf(http.StatusBadRequest, "ErrorInvalidProperty", "An extended property needs an id.")
		}
		m := extIDRE.FindStringSubmatch(*p.ID)
		if m == nil {
			return errorf(http.StatusBadRequest, "ErrorInvalidProperty", "The extended property id '%s' is malformed.", *p.ID)
		}
		if p.Value != nil && !validExtValue(m[1], *p.Value) {
			return errorf(http.StatusBadRequest, "ErrorInvalidExtendedPropertyValue", "The value '%s' is not valid for an extended property of type %s.", *p.Value, m[1])
		}
		i := slices.IndexFunc(e.ext, func(x extProp) bool { return strings.EqualFold(x.ID, *p.ID) })
		switch {
		case p.Value == nil && i >= 0:
			e.ext = slices.Delete(e.ext, i, i+1)
		case p.Value == nil:
		case i >= 0:
			e.ext[i].Value = p.Value
		default:
			e.ext = append(e.ext, extProp{ID: *p.ID, Value: p.Value})
		}
	}
	return nil
}

func validExtValue(typ, v string) bool {
	var err error
	switch strings.ToLower(typ) {
	case "integer", "long", "short":
		_, err = strconv.ParseInt(v, 10, 64)
	case "boolean":
		_, err = strconv.ParseBool(v)
	case "double", "float", "currency":
		_, err = strconv.ParseFloat(v, 64)
	case "systemtime":
		_, err = time.Parse(time.RFC3339Nano, v)
	}
	return err == nil
}

func (e *event) extValue(id string) (*string, bool) {
	for _, p := range e.ext {
		if strings.EqualFold(p.ID, id) {
			return p.Value, true
		}
	}
	return nil, false
}

func (e *event) clone() *event {
	c := *e
	c.props = make(map[string]json.RawMessage, len(e.props))
	for k, v := range e.props {
		c.props[k] = v
	}
	c.ext = slices.Clone(e.ext)
	return &c
}

func (e *event) etag() string { return `W/"` + e.changeKey + `"` }

// touch records a change the way Exchange does: a new change key.
func (e *event) touch(now time.Time) {
	e.changeKey, e.modified = newChangeKey(), now.UTC()
}

// view is how an event is rendered for one request.
type view struct {
	p       prefs
	selects []string
	expand  []string // extended property IDs to include
	allExt  bool     // include every extended property (inspection)
}

// eventJSON renders e as Graph does.
func (s *Server) eventJSON(e *event, v view) map[string]any {
	m := map[string]any{}
	for k, def := range plainDefaults {
		m[k] = def
	}
	m["attendees"], m["locations"], m["location"] = []any{}, []any{}, emptyLocation
	for k, raw := range e.props {
		m[k] = raw
	}
	body := e.body
	if v.p.text {
		body = itemBody{ContentType: "text", Content: htmlToText(body.Content)}
	}
	response := "organizer"
	if !e.isOrganizer {
		response = "notResponded"
	}
	var online any
	if e.online != nil {
		online = e.online
	}
	provider := e.provider
	if provider == "" {
		provider = "unknown"
	}
	for k, val := range map[string]any{
		"@odata.etag":           e.etag(),
		"id":                    e.id,
		"createdDateTime":       e.created.Format(instantLayout),
		"lastModifiedDateTime":  e.modified.Format(instantLayout),
		"changeKey":             e.changeKey,
		"originalStartTimeZone": e.startZone,
		"originalEndTimeZone":   e.endZone,
		"iCalUId":               e.iCalUID,
		"bodyPreview":           bodyPreview(e.body.Content),
		"hasAttachments":        false,
		"isCancelled":           false,
		"isOrganizer":           e.isOrganizer,
		"seriesMasterId":        nil,
		"type":                  "singleInstance",
		"webLink":               "https://outlook.office365.com/owa/?itemid=" + url.QueryEscape(e.id) + "&exvsurl=1&path=/calendar/item",
		"onlineMeetingUrl":      nil,
		"isOnlineMeeting":       e.isOnline,
		"onlineMeetingProvider": provider,
		"onlineMeeting":         online,
		"recurrence":            nil,
		"responseStatus":        map[string]any{"response": response, "time": "0001-01-01T00:00:00Z"},
		"body":                  body,
		"start":                 map[string]any{"dateTime": e.start.In(v.p.loc).Format(localLayout), "timeZone": v.p.reportedZone()},
		"end":                   map[string]any{"dateTime": e.end.In(v.p.loc).Format(localLayout), "timeZone": v.p.reportedZone()},
		"organizer":             map[string]any{"emailAddress": e.organizer},
	} {
		m[k] = val
	}
	var ext []extProp
	for _, p := range e.ext {
		if v.allExt || slices.ContainsFunc(v.expand, func(id string) bool { return strings.EqualFold(id, p.ID) }) {
			ext = append(ext, p)
		}
	}
	if len(ext) > 0 {
		m["singleValueExtendedProperties"] = ext
	}
	if v.selects != nil {
		keep := append([]string{"@odata.etag", "id", "singleValueExtendedProperties"}, v.selects...)
		for k := range m {
			if !slices.Contains(keep, k) {
				delete(m, k)
			}
		}
	}
	return m
}

// eventIDPrefix starts every mailbox item ID Exchange hands out.
const eventIDPrefix = "AAMkA"

// eventIDBytes makes IDs as long as real ones, ending in a single "=".
const eventIDBytes = 71

func newEventID() string {
	return eventIDPrefix + base64.URLEncoding.EncodeToString(randomBytes(eventIDBytes))
}

func validEventID(id string) bool {
	rest, ok := strings.CutPrefix(id, eventIDPrefix)
	if !ok {
		return false
	}
	b, err := base64.URLEncoding.DecodeString(rest)
	return err == nil && len(b) == eventIDBytes
}

func newChangeKey() string { return base64.StdEncoding.EncodeToString(randomBytes(22)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n))[:n] }

func randomDigits(n int) string {
	b := randomBytes(n)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

func compact(raw json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("emugraph: marshal: %v", err))
	}
	return b
}
