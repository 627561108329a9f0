package joininfo

import (
	"html"
	"net/url"
	"strings"
)

// The block is delimited by two visible markers, each at the end of an
// 80-underscore rule like the one Teams draws:
//
//	________…________[webscheduler:291633251]
//	(the rendered template)
//	________…________[/webscheduler]
//
// Why visible text: Exchange keeps the words of a body and little else. It
// rewrites the document wrapper, reflows white space, reorders and drops
// attributes (Outlook on the web drops classes and data-*), prefixes ids and
// classes with x_ in quoted copies, changes character references, lets
// Outlook desktop rebuild the markup as Word paragraphs, and turns the body
// into plain text for text clients. A marker in the text survives all of
// these. The markers contain no white space, because Exchange folds long
// lines only at spaces. A rule alone would not do, because Teams blocks and
// users draw the same rules. The start marker carries the conference ID, so a
// reader can tell which meeting a block belongs to (ConferenceIDOf).
//
// In HTML the whole block sits in <div id="webscheduler-joininfo">. Finding
// never depends on that id. The id is used only to prefer our own block to an
// x_-prefixed copy quoted from another message. When the block is cut out,
// the elements that hold nothing but the block go with it, so no empty
// wrapper stays behind.
const (
	markerStem = "webscheduler"
	beginStem  = "[" + markerStem // followed by "]" or ":<id>]"
	endMarker  = "[/" + markerStem + "]"
	ruleLen    = 80
	maxIDLen   = 128 // the longest escaped conference ID a marker may carry
	wrapperID  = "webscheduler-joininfo"

	// textSeparator is the blank line between a text body and the block.
	textSeparator = "\r\n\r\n"
)

var rule = strings.Repeat("_", ruleLen)

// BodyType is a calendar body's content type, as in Graph's body.contentType.
type BodyType string

const (
	BodyHTML BodyType = "html"
	BodyText BodyType = "text"
)

// isText compares without case, because Graph accepts "HTML" and "Text" in
// requests. Any type other than text is treated as HTML.
func (t BodyType) isText() bool { return strings.EqualFold(string(t), string(BodyText)) }

// Find returns where the join block is in body. When a body holds more than
// one block, Find picks the first that is still in our un-prefixed wrapper,
// or else the first. A lone x_-prefixed copy is still found, because ids do
// not survive every client and so cannot decide; compare ConferenceIDOf with
// the event's extended property to tell. A start marker without an end
// marker is not a block.
func Find(body string, typ BodyType) (start, end int, ok bool) {
	r, ok := locate(body, typ)
	return r.start, r.end, ok
}

// ConferenceIDOf returns the conference ID recorded in the block's start
// marker. A stale copy of an item may still carry another meeting's block,
// and this tells the two apart. ok is false when there is no block.
func ConferenceIDOf(body string, typ BodyType) (id string, ok bool) {
	r, ok := locate(body, typ)
	return r.id, ok
}

// Replace puts b in place of the block in body. When body has no block, it
// appends b after the user's content: before </body> in HTML, and after a
// blank line in text. Every byte outside the block stays as it is, so
// Replace is idempotent and Remove undoes an insertion exactly. b must come
// from Render, which adds the markers.
func Replace(body string, typ BodyType, b Block) string {
	if typ.isText() {
		if r, ok := locateText(body); ok {
			return body[:r.start] + b.Text + body[r.end:]
		}
		if body == "" {
			return b.Text
		}
		return body + textSeparator + b.Text
	}
	items := scan(body)
	if r, ok := locateHTML(body, items); ok {
		return body[:r.start] + b.HTML + body[r.end:]
	}
	at := insertionPoint(items, len(body))
	return body[:at] + b.HTML + body[at:]
}

// Remove cuts the block out of body, together with the blank line that
// Replace put before it in a text body.
func Remove(body string, typ BodyType) string {
	r, ok := locate(body, typ)
	if !ok {
		return body
	}
	start := r.start
	if typ.isText() {
		for _, sep := range []string{textSeparator, "\n\n"} {
			if strings.HasSuffix(body[:start], sep) {
				start -= len(sep)
				break
			}
		}
	}
	return body[:start] + body[r.end:]
}

// region is a block's place, in the body or in its visible text.
type region struct {
	start, end int
	id         string
}

func locate(body string, typ BodyType) (region, bool) {
	if typ.isText() {
		return locateText(body)
	}
	return locateHTML(body, scan(body))
}

func locateText(body string) (region, bool) {
	rs := markerPairs(body)
	if len(rs) == 0 {
		return region{}, false
	}
	return rs[0], true
}

func locateHTML(body string, items []item) (region, bool) {
	v := project(body, items)
	var first region
	found := false
	for _, p := range markerPairs(v.text) {
		r := expand(body, items, int(v.spans[p.start].start), int(v.spans[p.end-1].end))
		r.id = p.id
		if i := itemAt(items, r.start); items[i].kind == startTag && attr(body, items[i], "id") == wrapperID {
			return r, true
		}
		if !found {
			first, found = r, true
		}
	}
	return first, found
}

// markerPairs finds each start marker that is followed by an end marker with
// no other start marker in between. A start marker whose end marker the
// user deleted is therefore ignored, and Replace appends a new block instead
// of swallowing the user's text up to some later end marker.
func markerPairs(t string) []region {
	var pairs []region
	open := region{start: -1}
	for i := 0; ; {
		j := strings.IndexByte(t[i:], '[')
		if j < 0 {
			return pairs
		}
		i += j
		if strings.HasPrefix(t[i:], endMarker) {
			if open.start >= 0 {
				open.end = i + len(endMarker)
				pairs = append(pairs, open)
				open.start = -1
			}
			i += len(endMarker)
			continue
		}
		if n, id, ok := beginMarker(t[i:]); ok {
			open = region{start: ruleStart(t, i), id: id}
			i += n
			continue
		}
		i++
	}
}

// beginMarker parses a start marker at the start of s, returning its length
// and conference ID.
func beginMarker(s string) (n int, id string, ok bool) {
	rest, found := strings.CutPrefix(s, beginStem)
	if !found || rest == "" {
		return 0, "", false
	}
	if rest[0] == ']' {
		return len(beginStem) + 1, "", true
	}
	if rest[0] != ':' {
		return 0, "", false
	}
	k := strings.IndexByte(rest[:min(len(rest), maxIDLen+2)], ']')
	if k < 0 || strings.ContainsAny(rest[1:k], " \t\r\n\f[") {
		return 0, "", false
	}
	raw := rest[1:k]
	if id, err := url.QueryUnescape(raw); err == nil {
		raw = id
	}
	return len(beginStem) + k + 1, raw, true
}

// ruleStart returns where the rule before the start marker at t[at] begins.
// It takes at most one rule's worth of underscores, so a user's underscores
// just before the block stay the user's.
func ruleStart(t string, at int) int {
	start := at
	for i, n := at-1, 0; i >= 0 && n < ruleLen; i-- {
		switch {
		case t[i] == '_':
			start = i
			n++
		case !isSpace(t[i]):
			return start
		}
	}
	return start
}

// expand widens the markers' span [a, d) in body over the tags that wrap it
// with nothing else in them: the tags before a (start tags and white space
// only) and after d (end tags and white space only), as far as they pair up
// with each other and with the tags inside [a, d). It stops at text, so it
// never takes a user's words. When the tags cannot be paired (broken markup,
// or a block that an editor merged into the user's paragraphs), it takes all
// of them. Either way, a second Replace finds exactly the block the first
// one wrote.
func expand(body string, items []item, a, d int) region {
	i0, i1 := itemAt(items, a), itemAt(items, d-1)
	var before, after []item // innermost first
	if isBlank(body[items[i0].start:a]) {
		for i := i0 - 1; i >= 0; i-- {
			if it := items[i]; it.opens() {
				before = append(before, it)
			} else if it.kind != text || !isBlank(body[it.start:it.end]) {
				break
			}
		}
	}
	if isBlank(body[d:items[i1].end]) {
		for i := i1 + 1; i < len(items); i++ {
			if it := items[i]; it.closes() {
				after = append(after, it)
			} else if it.kind != text || !isBlank(body[it.start:it.end]) {
				break
			}
		}
	}

	var inside []item
	if i1 > i0 {
		inside = items[i0+1 : i1]
	}
	closes, opens, ok := nesting(inside)
	ok = ok && len(before) >= len(closes) && len(after) >= len(opens)
	for i := 0; ok && i < len(closes); i++ {
		ok = before[i].name == closes[i]
	}
	for i := 0; ok && i < len(opens); i++ {
		ok = after[i].name == opens[len(opens)-1-i]
	}
	// k tags of before and m of after are taken.
	k, m := len(closes), len(opens)
	for ok && k < len(before) && m < len(after) && before[k].name == after[m].name {
		k++
		m++
	}
	if !ok {
		k, m = len(before), len(after)
	}
	r := region{start: a, end: d}
	if k > 0 {
		r.start = before[k-1].start
	}
	if m > 0 {
		r.end = after[m-1].end
	}
	return r
}

// nesting pairs the tags in items. It returns the end tags that close
// elements opened before items, the start tags left open after them, and
// false when the tags cross.
func nesting(items []item) (closes, opens []string, ok bool) {
	for _, it := range items {
		switch {
		case it.opens():
			opens = append(opens, it.name)
		case it.kind == endTag:
			n := len(opens)
			switch {
			case n == 0:
				closes = append(closes, it.name)
			case opens[n-1] == it.name:
				opens = opens[:n-1]
			default:
				return nil, nil, false
			}
		}
	}
	return closes, opens, true
}

// insertionPoint is where a new block goes in an HTML body: before the last
// </body> (or </html>), else at the end. When the body ends inside markup,
// such as an unclosed comment, the block goes before that markup, so that it
// stays visible and findable.
func insertionPoint(items []item, end int) int {
	for _, name := range []string{"body", "html"} {
		for i := len(items) - 1; i >= 0; i-- {
			if items[i].kind == endTag && items[i].name == name {
				return items[i].start
			}
		}
	}
	if n := len(items); n > 0 && items[n-1].open {
		return items[n-1].start
	}
	return end
}

// beginMarkerFor returns the start marker that records id.
func beginMarkerFor(id string) string {
	if id == "" {
		return beginStem + "]"
	}
	return beginStem + ":" + url.QueryEscape(id) + "]"
}

func wrapHTML(id, content string) string {
	line := func(marker string) string {
		return `<div style="color:#a19f9d; font-size:11px; white-space:nowrap">` + rule + html.EscapeString(marker) + "</div>"
	}
	return `<div id="` + wrapperID + `">` + "\n" + line(beginMarkerFor(id)) + "\n" + content + "\n" + line(endMarker) + "\n</div>"
}

func wrapText(id, content string) string {
	return rule + beginMarkerFor(id) + "\r\n" + content + "\r\n" + rule + endMarker
}
