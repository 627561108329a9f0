package emugraph

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The OData query subset the emulator understands. Anything else is refused
// with 400 rather than ignored, so a client never believes an option it
// sent took effect.

// eventQuery is a parsed events or calendarView query.
type eventQuery struct {
	top, skip int
	topSet    bool
	count     bool
	selects   []string // canonical names; nil means the default set
	filter    func(*event) bool
	expand    []string // IDs of the extended properties to expand
	orderBy   []orderKey
}

type orderKey struct {
	field string
	desc  bool
}

func parseEventQuery(q url.Values) (*eventQuery, *apiError) {
	eq := &eventQuery{top: 10}
	var err *apiError
	if v := q.Get("$top"); v != "" {
		if eq.top, err = nonNegative("$top", v); err != nil {
			return nil, err
		}
		eq.topSet = true
		eq.top = min(eq.top, 1000)
	}
	if v := q.Get("$skip"); v != "" {
		if eq.skip, err = nonNegative("$skip", v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("$count"); v != "" {
		b, perr := strconv.ParseBool(v)
		if perr != nil {
			return nil, errorf(http.StatusBadRequest, "BadRequest", "Invalid value '%s' for $count.", v)
		}
		eq.count = b
	}
	if v := q.Get("$select"); v != "" {
		for _, name := range splitTop(v, ",") {
			canon, ok := eventPropertyName(strings.TrimSpace(name))
			if !ok {
				return nil, errorf(http.StatusBadRequest, "BadRequest", "Could not find a property named '%s' on type 'microsoft.graph.event'.", strings.TrimSpace(name))
			}
			eq.selects = append(eq.selects, canon)
		}
	}
	if v := q.Get("$filter"); v != "" {
		if eq.filter, err = parseExtFilter(v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("$expand"); v != "" {
		if eq.expand, err = parseExtExpand(v); err != nil {
			return nil, err
		}
	}
	if v := q.Get("$orderby"); v != "" {
		for _, item := range splitTop(v, ",") {
			f := strings.Fields(item)
			if len(f) == 0 || len(f) > 2 || !slices.Contains(orderFields, f[0]) || (len(f) == 2 && f[1] != "asc" && f[1] != "desc") {
				return nil, errorf(http.StatusBadRequest, "BadRequest", "The $orderby clause '%s' is not supported by the emulator.", strings.TrimSpace(item))
			}
			eq.orderBy = append(eq.orderBy, orderKey{field: f[0], desc: len(f) == 2 && f[1] == "desc"})
		}
	}
	return eq, nil
}

var orderFields = []string{"start/dateTime", "end/dateTime", "createdDateTime", "lastModifiedDateTime", "subject"}

func nonNegative(name, v string) (int, *apiError) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "BadRequest", "Invalid value '%s' for %s.", v, name)
	}
	return n, nil
}

// extFilterRE is the filter Graph documents for finding items by a
// single-value extended property.
var extFilterRE = regexp.MustCompile(`(?i)^singleValueExtendedProperties/any\(\s*(\w+)\s*:\s*(\w+)/id\s+eq\s+'((?:[^']|'')*)'\s+and\s+(\w+)/value\s+(eq|ne)\s+(?:'((?:[^']|'')*)'|(null))\s*\)$`)

// parseExtFilter parses
//
//	singleValueExtendedProperties/any(ep: ep/id eq '{id}' and ep/value eq '{v}')
//
// with eq or ne, and a string or null.
func parseExtFilter(s string) (func(*event) bool, *apiError) {
	m := extFilterRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || m[1] != m[2] || m[1] != m[4] {
		return nil, errorf(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", "The $filter '%s' is not supported by the emulator: only singleValueExtendedProperties/any(ep: ep/id eq '...' and ep/value eq|ne '...'|null).", s)
	}
	id, ne, isNull, want := unquote(m[3]), strings.EqualFold(m[5], "ne"), m[7] != "", unquote(m[6])
	return func(e *event) bool {
		v, ok := e.extValue(id)
		has := ok && v != nil
		switch {
		case isNull:
			return has == ne
		case ne:
			return !has || *v != want
		default:
			return has && *v == want
		}
	}, nil
}

var (
	extExpandRE = regexp.MustCompile(`(?i)^singleValueExtendedProperties\(\s*\$filter\s*=\s*(.+)\)$`)
	idEqRE      = regexp.MustCompile(`(?i)^id\s+eq\s+'((?:[^']|'')*)'$`)
)

// parseExtExpand parses
//
//	singleValueExtendedProperties($filter=id eq '{id}' [or id eq '{id}' ...])
//
// Graph documents no other way of reading extended properties.
func parseExtExpand(s string) ([]string, *apiError) {
	var ids []string
	for _, item := range splitTop(s, ",") {
		m := extExpandRE.FindStringSubmatch(strings.TrimSpace(item))
		if m == nil {
			return nil, errorf(http.StatusBadRequest, "BadRequest", "The $expand '%s' is not supported by the emulator: only singleValueExtendedProperties($filter=id eq '...').", strings.TrimSpace(item))
		}
		for _, clause := range splitTop(m[1], " or ") {
			c := idEqRE.FindStringSubmatch(strings.TrimSpace(clause))
			if c == nil {
				return nil, errorf(http.StatusBadRequest, "BadRequest", "The $expand filter '%s' is not supported by the emulator.", clause)
			}
			ids = append(ids, unquote(c[1]))
		}
	}
	return ids, nil
}

// splitTop splits s at sep (case-insensitively) outside quotes and parentheses.
func splitTop(s, sep string) []string {
	var parts []string
	depth, quoted, last := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			quoted = !quoted // '' inside a string toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && i+len(sep) <= len(s) && strings.EqualFold(s[i:i+len(sep)], sep):
			parts = append(parts, s[last:i])
			last = i + len(sep)
			i = last - 1
		}
	}
	return append(parts, s[last:])
}

func unquote(s string) string { return strings.ReplaceAll(s, "''", "'") }

// prefs are the Prefer header preferences Graph honours for events.
type prefs struct {
	zone    string // outlook.timezone as requested; "" means UTC
	loc     *time.Location
	text    bool // outlook.body-content-type="text"
	maxPage int  // odata.maxpagesize
	applied []string
}

func parsePrefer(h http.Header) prefs {
	p := prefs{loc: time.UTC}
	for _, line := range h.Values("Prefer") {
		for _, item := range strings.Split(line, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(item), "=")
			v = strings.Trim(strings.TrimSpace(v), `"`)
			switch strings.ToLower(strings.TrimSpace(k)) {
			case "outlook.timezone":
				if loc, ok := loadZone(v); ok {
					p.zone, p.loc = v, loc
					p.applied = append(p.applied, `outlook.timezone="`+v+`"`)
				}
			case "outlook.body-content-type":
				if v == "text" || v == "html" {
					p.text = v == "text"
					p.applied = append(p.applied, `outlook.body-content-type="`+v+`"`)
				}
			case "odata.maxpagesize":
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					p.maxPage = n
					p.applied = append(p.applied, "odata.maxpagesize="+v)
				}
			}
		}
	}
	return p
}

// reportedZone is the time zone name start and end are given in.
func (p prefs) reportedZone() string {
	if p.zone == "" {
		return "UTC"
	}
	return p.zone
}

// nextLink is the request's own URL with $skip advanced, absolute as Graph
// gives it. "$" is kept literal in option names, as Graph writes them.
func nextLink(root string, r *http.Request, skip int) string {
	q := r.URL.Query()
	q.Set("$skip", strconv.Itoa(skip))
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(strings.ReplaceAll(url.QueryEscape(k), "%24", "$") + "=" + url.QueryEscape(v))
		}
	}
	return root + strings.TrimPrefix(r.URL.EscapedPath(), apiVersion) + "?" + b.String()
}
