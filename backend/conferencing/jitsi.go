package conferencing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// Limits on what the Jitsi directory reads: real requests are far smaller.
const (
	maxJitsiQuery = 2048 // bytes of the raw query string
	maxJitsiBody  = 4096 // bytes of a POST body
	maxJitsiParam = 256  // bytes of one parameter (a room JID)
	maxJitsiID    = 15   // digits: every such number is exact in JSON (below 2^53)
)

// Jitsi directory paths, below the prefix the service mounts it under.
const (
	JitsiConferenceMapperPath = "/conferenceMapper"
	JitsiPhoneNumberListPath  = "/phoneNumberList"
)

// NewJitsiDirectory serves the dial-in directory API of Jitsi Meet's
// cloud-api.swagger, so that a Jitsi Meet + Jigasi deployment shows and
// accepts our conference IDs: Jitsi Meet's dialInConfCodeUrl points at
// /conferenceMapper and its dialInNumbersUrl at /phoneNumberList.
//
// /conferenceMapper (GET with query parameters, POST with a JSON body)
// answers exact lookups only, by room (conference=room@domain, or the bare
// room; POST also takes room and domain) or by conference ID (id), with
// {"id": 1234567, "conference": "room@domain"}, or 200 with
// {"id": <the id asked for, or 0>, "conference": false} when there is no
// such conference, as the swagger describes. Unlike Jitsi's own service it
// never creates a mapping: conferences are made by scheduling meetings.
//
// /phoneNumberList answers the object shape Jitsi Meet has always read,
// {"message", "numbers": {"US": ["+1 206-555-0100"]}, "numbersEnabled"},
// and the swagger's array of {countryCode, formattedNumber, tollFree} with
// ?format=array. Jitsi Meet reads both; it keeps the query of its
// configured URL and appends its own parameters (conference, url) with '&',
// so an admin chooses the array with
// dialInNumbersUrl: 'https://scheduler.example/jitsi/phoneNumberList?format=array'.
//
// Parameters that are missing, too large, repeated or ill-formed get 400
// with {"error": {"code", "message"}}. Responses allow any origin, since
// Jitsi Meet fetches them from the browser without credentials, and they
// hold nothing a lookup by room or ID does not already reveal. When the
// directory is disabled in the settings every path answers 404.
func NewJitsiDirectory(store scheduler.ConferenceStore, s Settings) http.Handler {
	return &jitsiDirectory{store: store, s: s}
}

type jitsiDirectory struct {
	store scheduler.ConferenceStore
	s     Settings
}

func (d *jitsiDirectory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "no-store")
	if !d.s.Jitsi.Enabled {
		jitsiError(w, http.StatusNotFound, scheduler.ECodeNotFound, "Not found.")
		return
	}
	var allow string
	switch r.URL.Path {
	case JitsiConferenceMapperPath:
		allow = "GET, POST"
		switch r.Method {
		case http.MethodGet:
			d.mapperGet(w, r)
			return
		case http.MethodPost:
			d.mapperPost(w, r)
			return
		}
	case JitsiPhoneNumberListPath:
		allow = "GET"
		if r.Method == http.MethodGet {
			d.phoneNumberList(w, r)
			return
		}
	default:
		jitsiError(w, http.StatusNotFound, scheduler.ECodeNotFound, "Not found.")
		return
	}
	h.Set("Allow", allow)
	jitsiError(w, http.StatusMethodNotAllowed, scheduler.ECodeInvalid, "Use "+allow+".")
}

// mapperDetails is the swagger's ConferenceMapperDetails. Conference is the
// room JID, or false when there is no such conference.
type mapperDetails struct {
	ID         json.Number `json:"id"`
	Conference any         `json:"conference"`
}

// badRequest is a client error whose message is safe to show.
type badRequest string

func (e badRequest) Error() string { return string(e) }

func (d *jitsiDirectory) mapperGet(w http.ResponseWriter, r *http.Request) {
	q, err := parseJitsiQuery(r.URL.RawQuery)
	if err != nil {
		d.fail(w, err)
		return
	}
	conference, hasConference, err := param(q, "conference")
	if err != nil {
		d.fail(w, err)
		return
	}
	id, hasID, err := param(q, "id")
	if err != nil {
		d.fail(w, err)
		return
	}
	d.mapper(w, r, conference, hasConference, id, hasID)
}

func (d *jitsiDirectory) mapperPost(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID         json.Number `json:"id"`
		Conference *string     `json:"conference"`
		Room       *string     `json:"room"`
		Domain     *string     `json:"domain"`
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJitsiBody))
	if err != nil {
		d.fail(w, badRequest("The request body is too large."))
		return
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&body); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		d.fail(w, badRequest("The request body is not a JSON object with id, conference, room or domain."))
		return
	}
	var conference string
	hasConference := body.Conference != nil || body.Room != nil
	switch {
	case body.Conference != nil:
		conference = *body.Conference
	case body.Room != nil:
		// The swagger builds the JID from room and domain, the domain
		// defaulting to the API's own: here, the configured one.
		conference = *body.Room + "@" + d.s.Jitsi.ConferenceDomain
		if body.Domain != nil {
			conference = *body.Room + "@" + *body.Domain
		}
	}
	d.mapper(w, r, conference, hasConference, body.ID.String(), body.ID != "")
}

// mapper looks a conference up by room, which the swagger prefers, or by
// conference ID.
func (d *jitsiDirectory) mapper(w http.ResponseWriter, r *http.Request, conference string, hasConference bool, id string, hasID bool) {
	switch {
	case hasConference:
		room, ours, err := d.parseConference(conference)
		if err != nil {
			d.fail(w, err)
			return
		}
		out := mapperDetails{ID: "0", Conference: false}
		if ours {
			c, err := d.store.ConferenceByRoom(r.Context(), room)
			if err != nil && scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
				d.fail(w, err)
				return
			}
			if err == nil && c.Room == room && isJSONInteger(c.ConferenceID) {
				out = mapperDetails{ID: json.Number(c.ConferenceID), Conference: room + "@" + d.s.Jitsi.ConferenceDomain}
			}
		}
		writeJSON(w, out)
	case hasID:
		n, err := parseJitsiID(id)
		if err != nil {
			d.fail(w, err)
			return
		}
		out := mapperDetails{ID: json.Number(strconv.FormatUint(n, 10)), Conference: false}
		c, err := d.store.ConferenceByID(r.Context(), id)
		if err != nil && scheduler.ErrorCode(err) != scheduler.ECodeNotFound {
			d.fail(w, err)
			return
		}
		if err == nil && c.ConferenceID == id && c.Room != "" {
			out.Conference = c.Room + "@" + d.s.Jitsi.ConferenceDomain
		}
		writeJSON(w, out)
	default:
		d.fail(w, badRequest("Give a conference (room@domain) or an id."))
	}
}

// parseConference checks a room JID (or bare room) and returns the room in
// lower case, and whether it can be one of ours: in our domain and shaped
// as our rooms are. XMPP compares room names case-insensitively.
func (d *jitsiDirectory) parseConference(s string) (room string, ours bool, err error) {
	if len(s) > maxJitsiParam {
		return "", false, badRequest("The conference is too long.")
	}
	local, domain, hasDomain := strings.Cut(s, "@")
	if local == "" || !utf8.ValidString(s) || strings.ContainsFunc(local, forbiddenInRoom) {
		return "", false, badRequest("The conference is not a room name or room@domain.")
	}
	if hasDomain && !isDomain(strings.ToLower(domain)) {
		return "", false, badRequest("The conference's domain is not a domain name.")
	}
	room = strings.ToLower(local)
	ours = (!hasDomain || strings.EqualFold(domain, d.s.Jitsi.ConferenceDomain)) &&
		isRoomText(room) && len(room) <= maxRoomLength
	return room, ours, nil
}

// forbiddenInRoom reports the characters an XMPP localpart may not hold
// (RFC 7622), and spaces and controls, which Jitsi never puts in a room.
func forbiddenInRoom(r rune) bool {
	return strings.ContainsRune(`"&'/:<>@`, r) || unicode.IsSpace(r) || unicode.IsControl(r)
}

var jitsiIDRE = regexp.MustCompile(`^[0-9]{1,` + strconv.Itoa(maxJitsiID) + `}$`)

func parseJitsiID(s string) (uint64, error) {
	if !jitsiIDRE.MatchString(s) {
		return 0, badRequest("The id must be a conference ID of at most " + strconv.Itoa(maxJitsiID) + " digits.")
	}
	return strconv.ParseUint(s, 10, 64)
}

// isJSONInteger reports whether an ID reads back unchanged as a JSON number
// (no leading zero, exact in a float64), as Jitsi treats IDs.
func isJSONInteger(id string) bool {
	return jitsiIDRE.MatchString(id) && (id == "0" || id[0] != '0')
}

type phoneNumber struct {
	CountryCode     string `json:"countryCode"`
	FormattedNumber string `json:"formattedNumber"`
	TollFree        bool   `json:"tollFree"`
}

func (d *jitsiDirectory) phoneNumberList(w http.ResponseWriter, r *http.Request) {
	q, err := parseJitsiQuery(r.URL.RawQuery)
	if err != nil {
		d.fail(w, err)
		return
	}
	// Jitsi Meet names the conference; the numbers are the same for all.
	if conference, ok, err := param(q, "conference"); err != nil {
		d.fail(w, err)
		return
	} else if ok {
		if _, _, err := d.parseConference(conference); err != nil {
			d.fail(w, err)
			return
		}
	}
	format, _, err := param(q, "format")
	if err != nil {
		d.fail(w, err)
		return
	}
	numbers := d.s.DialIn.Numbers
	switch format {
	case "array":
		out := make([]phoneNumber, 0, len(numbers))
		for _, n := range numbers {
			out = append(out, phoneNumber{CountryCode: n.Country, FormattedNumber: n.Number, TollFree: n.TollFree})
		}
		writeJSON(w, out)
	case "", "object":
		out := struct {
			Message        string    `json:"message"`
			Numbers        byCountry `json:"numbers"`
			NumbersEnabled bool      `json:"numbersEnabled"`
		}{Message: "Phone numbers available.", Numbers: numbers, NumbersEnabled: len(numbers) > 0}
		if len(numbers) == 0 {
			out.Message = "No phone numbers available."
		}
		writeJSON(w, out)
	default:
		d.fail(w, badRequest(`The format must be "object" or "array".`))
	}
}

// byCountry marshals numbers as {"US": ["+1 …", …], …} with the countries
// in the order the admin listed them: Jitsi Meet offers the first number as
// the default, and encoding/json would sort the keys.
type byCountry []DialInNumber

func (b byCountry) MarshalJSON() ([]byte, error) {
	var order []string
	numbers := map[string][]string{}
	for _, n := range b {
		if _, ok := numbers[n.Country]; !ok {
			order = append(order, n.Country)
		}
		numbers[n.Country] = append(numbers[n.Country], n.Number)
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, c := range order {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(c)
		v, err := json.Marshal(numbers[c])
		if err != nil {
			return nil, err
		}
		buf.Write(k)
		buf.WriteByte(':')
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// parseJitsiQuery parses a query strictly: url.Values from r.URL.Query
// would silently drop what does not parse.
func parseJitsiQuery(raw string) (url.Values, error) {
	if len(raw) > maxJitsiQuery {
		return nil, badRequest("The query is too long.")
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("The query is not well-formed.")
	}
	return q, nil
}

// param returns a parameter given once; given twice, or empty, or too
// long, it is ill-formed. Unknown parameters are ignored: Jitsi Meet adds
// its own (url).
func param(q url.Values, name string) (string, bool, error) {
	vs, ok := q[name]
	switch {
	case !ok:
		return "", false, nil
	case len(vs) != 1:
		return "", false, badRequest("Give " + name + " only once.")
	case vs[0] == "":
		return "", false, badRequest("The " + name + " is empty.")
	case len(vs[0]) > maxJitsiParam:
		return "", false, badRequest("The " + name + " is too long.")
	}
	return vs[0], true, nil
}

// fail answers err: 400 for a bad request, the store's own status when it
// cannot answer, and 500 with no detail for anything else.
func (d *jitsiDirectory) fail(w http.ResponseWriter, err error) {
	var bad badRequest
	switch {
	case errors.As(err, &bad):
		jitsiError(w, http.StatusBadRequest, scheduler.ECodeInvalid, bad.Error())
	case scheduler.ErrorCode(err) == scheduler.ECodeStoreUnavailable:
		jitsiError(w, http.StatusServiceUnavailable, scheduler.ECodeStoreUnavailable, scheduler.ErrorMessage(err))
	default:
		jitsiError(w, http.StatusInternalServerError, scheduler.ECodeInternal, scheduler.ErrorMessage(err))
	}
}

// jitsiError writes the API's error shape (DESIGN §4).
func jitsiError(w http.ResponseWriter, status int, code, message string) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error body `json:"error"`
	}{body{code, message}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
