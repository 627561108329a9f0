package joininfo

import (
	"html"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds a small HTML tokenizer. It separates text from markup the
// way a browser's tokenizer does, and it keeps byte offsets. The block is
// found in the text a reader sees, but it is cut out of the original bytes,
// and nothing else in the body may change. golang.org/x/net/html's tokenizer
// decodes text without saying where each character came from, so it would
// not save the offset bookkeeping, and the standard library has no tokenizer.

type kind uint8

const (
	text     kind = iota
	startTag      // <div …>
	endTag        // </div>
	other         // a comment, doctype, processing instruction, or a whole <style>…</style>
)

type item struct {
	kind       kind
	name       string // a tag's name in lower case
	start, end int    // byte offsets in the body
	void       bool   // a start tag that opens no element: <br>, <img>, <x/>
	open       bool   // the body ends before the item does
}

// opens reports whether it is a start tag that may wrap the block. The
// document's own html, head and body elements never count as a wrapper, nor
// does a tag that the end of the body cuts off.
func (it item) opens() bool {
	return it.kind == startTag && !it.void && !it.open && !docElements[it.name]
}

func (it item) closes() bool { return it.kind == endTag && !it.open && !docElements[it.name] }

var (
	docElements  = map[string]bool{"html": true, "head": true, "body": true}
	voidElements = map[string]bool{
		"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
		"input": true, "keygen": true, "link": true, "meta": true, "param": true, "source": true,
		"track": true, "wbr": true,
	}
	// The contents of these elements are not markup, so they are kept with
	// their tags as one item: a "<div>" inside a <style> is not a tag.
	rawTextElements = map[string]bool{
		"iframe": true, "noembed": true, "noframes": true, "script": true, "style": true,
		"textarea": true, "title": true, "xmp": true,
	}
)

// scan splits s into text and markup. Every byte of s is in exactly one item.
func scan(s string) []item {
	var items []item
	textStart := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		i += j
		it, ok := markup(s, i)
		if !ok {
			i++
			continue
		}
		if textStart < i {
			items = append(items, item{kind: text, start: textStart, end: i})
		}
		items = append(items, it)
		i, textStart = it.end, it.end
	}
	if textStart < len(s) {
		items = append(items, item{kind: text, start: textStart, end: len(s)})
	}
	return items
}

// markup reads the markup starting with the '<' at s[i]. It reports false
// when a browser would read that '<' as text.
func markup(s string, i int) (item, bool) {
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "!--"):
		// Searching from "--" lets "<!-->" end at once, as it does in browsers.
		return until(s, i, i+2, "-->"), true
	case strings.HasPrefix(rest, "!"), strings.HasPrefix(rest, "?"):
		return until(s, i, i+2, ">"), true
	case strings.HasPrefix(rest, "/"):
		if len(rest) > 1 && isLetter(rest[1]) {
			return tag(s, i, endTag), true
		}
		return until(s, i, i+2, ">"), true
	case rest != "" && isLetter(rest[0]):
		it := tag(s, i, startTag)
		if rawTextElements[it.name] && !it.open {
			it = rawTextElement(s, it)
		}
		return it, true
	}
	return item{}, false
}

func until(s string, start, from int, sep string) item {
	j := strings.Index(s[from:], sep)
	if j < 0 {
		return item{kind: other, start: start, end: len(s), open: true}
	}
	return item{kind: other, start: start, end: from + j + len(sep)}
}

func tag(s string, i int, k kind) item {
	n := i + 1
	if k == endTag {
		n++
	}
	nameStart := n
	n = nameEnd(s, n)
	it := item{kind: k, name: strings.ToLower(s[nameStart:n]), start: i}
	end, selfClosing, ok := attributes(s, n, nil)
	it.end, it.open = end, !ok
	it.void = k == startTag && (selfClosing || voidElements[it.name])
	return it
}

func nameEnd(s string, i int) int {
	for i < len(s) && !isSpace(s[i]) && s[i] != '/' && s[i] != '>' {
		i++
	}
	return i
}

// attributes reads a tag's attributes from s[i] to the closing '>' as a
// browser does, calling visit for each one when visit is not nil. It
// returns the offset after the '>', whether the tag ended with "/>", and
// false when the body ends first.
func attributes(s string, i int, visit func(name, value string)) (end int, selfClosing, ok bool) {
	slash := false
	for i < len(s) {
		switch c := s[i]; {
		case c == '>':
			return i + 1, slash, true
		case c == '/':
			slash = true
			i++
			continue
		case isSpace(c):
			i++
			continue
		}
		slash = false
		n := i + 1 // a name may begin with '='
		for n < len(s) && !isSpace(s[n]) && s[n] != '/' && s[n] != '>' && s[n] != '=' {
			n++
		}
		name, value := s[i:n], ""
		i = skipSpace(s, n)
		if i < len(s) && s[i] == '=' {
			i = skipSpace(s, i+1)
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := strings.IndexByte(s[i+1:], s[i])
				if q < 0 {
					return len(s), false, false
				}
				value, i = s[i+1:i+1+q], i+2+q
			} else {
				v := i
				for i < len(s) && !isSpace(s[i]) && s[i] != '>' {
					i++
				}
				value = s[v:i]
			}
		}
		if visit != nil {
			visit(name, html.UnescapeString(value))
		}
	}
	return len(s), false, false
}

// attr returns the value of a start tag's attribute.
func attr(s string, it item, name string) string {
	var value string
	attributes(s[:it.end], nameEnd(s, it.start+1), func(n, v string) {
		if strings.EqualFold(n, name) {
			value = v
		}
	})
	return value
}

// rawTextElement extends the start tag of a <style>, <script>… to its end tag.
func rawTextElement(s string, start item) item {
	for i := start.end; ; i += 2 {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return item{kind: other, start: start.start, end: len(s), open: true}
		}
		i += j
		n := i + 2 + len(start.name)
		if n <= len(s) && strings.EqualFold(s[i+2:n], start.name) && (n == len(s) || isSpace(s[n]) || s[n] == '/' || s[n] == '>') {
			end := tag(s, i, endTag)
			return item{kind: other, start: start.start, end: end.end, open: end.open}
		}
	}
}

// itemAt returns the index of the item that holds byte off.
func itemAt(items []item, off int) int {
	return sort.Search(len(items), func(i int) bool { return items[i].end > off })
}

// visible is the text a reader sees in an HTML body: character references
// decoded, tags and comments gone, every run of white space (U+00A0 too)
// one space. Exchange rewrites all of these, so markers are looked for here.
type visible struct {
	text  string
	spans []span // spans[i] is the part of the body that text[i] comes from
}

// span is 8 bytes, there being one per byte of text: Graph's bodies are
// far below 2 GB.
type span struct{ start, end int32 }

func project(s string, items []item) visible {
	// The text is at most about as long as the body: size both once
	// instead of growing a span per byte by doubling.
	var b strings.Builder
	b.Grow(len(s))
	spans := make([]span, 0, len(s))
	add := func(t string, from, to int) {
		b.WriteString(t)
		for range len(t) {
			spans = append(spans, span{int32(from), int32(to)})
		}
	}
	space := false
	for _, it := range items {
		if it.kind != text {
			continue
		}
		for i := it.start; i < it.end; {
			var t string
			n := 1
			if s[i] == '&' {
				t, n = reference(s[i:it.end])
			} else {
				_, n = utf8.DecodeRuneInString(s[i:it.end])
				t = s[i : i+n]
			}
			if r, size := utf8.DecodeRuneInString(t); size == len(t) && unicode.IsSpace(r) {
				if !space {
					add(" ", i, i+n)
				}
				space = true
			} else {
				add(t, i, i+n)
				space = false
			}
			i += n
		}
	}
	return visible{text: b.String(), spans: spans}
}

// reference decodes the character reference at the start of s, returning
// what it stands for and its length, or "&" and 1 when it is none.
func reference(s string) (string, int) {
	n := 1
	for n < len(s) && n < 40 && (isLetter(s[n]) || s[n] >= '0' && s[n] <= '9' || s[n] == '#') {
		n++
	}
	if n < len(s) && s[n] == ';' {
		n++
	}
	if t := html.UnescapeString(s[:n]); t != s[:n] {
		return t, n
	}
	return "&", 1
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isBlank(s string) bool { return skipSpace(s, 0) == len(s) }
