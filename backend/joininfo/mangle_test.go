package joininfo

import (
	"fmt"
	"html"
	"slices"
	"strings"
)

// This file imitates what Exchange, Outlook on the web and Outlook desktop
// do to a body between writes (see the oracles' event-bodies README,
// "Observations"). Each mangling takes a body and returns the rewritten one.

type mangling struct {
	name   string
	apply  func(string) string
	toText bool // the result is a text body
}

var htmlManglings = []mangling{
	{name: "wrap-document", apply: wrapDocument},
	{name: "x-prefix", apply: prefixIDsAndClasses},
	{name: "drop-attributes", apply: dropAttributes},
	{name: "reorder-attributes", apply: reorderAttributes},
	{name: "reflow-crlf", apply: reflow},
	{name: "entities", apply: changeReferences},
	{name: "outlook-desktop", apply: wordParagraphs},
	{name: "exchange-all", apply: func(s string) string {
		return reflow(changeReferences(reorderAttributes(prefixIDsAndClasses(wrapDocument(s)))))
	}},
	{name: "to-text", apply: toText, toText: true},
}

var textManglings = []mangling{
	{name: "text-crlf-fold", apply: foldText, toText: true},
}

// wrapDocument puts the body's content in the document Exchange writes, with
// an Outlook on the web style sheet in the head.
func wrapDocument(s string) string {
	items := scan(s)
	inner := s
	if i := slices.IndexFunc(items, func(it item) bool { return it.kind == startTag && it.name == "body" }); i >= 0 {
		inner = s[items[i].end:]
	}
	if end := insertionPoint(scan(inner), len(inner)); end < len(inner) {
		inner = inner[:end]
	}
	return "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n" +
		"<meta content=\"text/html; charset=us-ascii\">\r\n" +
		"<style type=\"text/css\" style=\"display:none\">\r\n<!--\r\np\r\n\t{margin-top:0;\r\n\tmargin-bottom:0}\r\n-->\r\n</style>\r\n" +
		"</head>\r\n<body dir=\"ltr\">\r\n" + inner + "\r\n</body>\r\n</html>\r\n"
}

type attribute struct{ name, value string }

// rewriteStartTags writes every start tag again with the attributes f returns.
func rewriteStartTags(s string, f func([]attribute) []attribute) string {
	var b strings.Builder
	for _, it := range scan(s) {
		raw := s[it.start:it.end]
		if it.kind != startTag || it.open {
			b.WriteString(raw)
			continue
		}
		var attrs []attribute
		attributes(raw, nameEnd(raw, 1), func(n, v string) { attrs = append(attrs, attribute{n, v}) })
		b.WriteString(raw[:nameEnd(raw, 1)])
		for _, a := range f(attrs) {
			fmt.Fprintf(&b, ` %s="%s"`, a.name, html.EscapeString(a.value))
		}
		b.WriteString(">")
	}
	return b.String()
}

// prefixIDsAndClasses is what Outlook on the web does to a quoted copy.
func prefixIDsAndClasses(s string) string {
	return rewriteStartTags(s, func(attrs []attribute) []attribute {
		for i, a := range attrs {
			switch strings.ToLower(a.name) {
			case "id":
				attrs[i].value = "x_" + a.value
			case "class":
				classes := strings.Fields(a.value)
				for j := range classes {
					classes[j] = "x_" + classes[j]
				}
				attrs[i].value = strings.Join(classes, " ")
			}
		}
		return attrs
	})
}

// dropAttributes keeps only href, as a strict sanitizer would.
func dropAttributes(s string) string {
	return rewriteStartTags(s, func(attrs []attribute) []attribute {
		return slices.DeleteFunc(attrs, func(a attribute) bool { return !strings.EqualFold(a.name, "href") })
	})
}

// reorderAttributes reverses the attributes and moves style last, as
// Exchange does.
func reorderAttributes(s string) string {
	return rewriteStartTags(s, func(attrs []attribute) []attribute {
		slices.Reverse(attrs)
		slices.SortStableFunc(attrs, func(a, b attribute) int {
			isStyle := func(a attribute) int {
				if strings.EqualFold(a.name, "style") {
					return 1
				}
				return 0
			}
			return isStyle(a) - isStyle(b)
		})
		return attrs
	})
}

// reflow puts CRLF after every tag and folds text lines longer than 60
// bytes at a space, as Exchange stores bodies.
func reflow(s string) string {
	var b strings.Builder
	col := 0
	for _, it := range scan(s) {
		raw := s[it.start:it.end]
		if it.kind != text {
			b.WriteString(raw)
			col += len(raw)
			if it.kind != other && (it.end == len(s) || s[it.end] != '\r' && s[it.end] != '\n') {
				b.WriteString("\r\n")
				col = 0
			}
			continue
		}
		raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
		for i := 0; i < len(raw); i++ {
			switch {
			case raw[i] == ' ' && col > 60:
				b.WriteString("\r\n ")
				col = 1
			case raw[i] == '\n':
				b.WriteByte('\n')
				col = 0
			default:
				b.WriteByte(raw[i])
				col++
			}
		}
	}
	return b.String()
}

// changeReferences writes text with other character references: literal
// "+" and "'", &nbsp; for U+00A0, numeric references for "[" and for
// everything outside ASCII.
func changeReferences(s string) string {
	s = rewriteStartTags(s, func(a []attribute) []attribute { return a })
	var b strings.Builder
	for _, it := range scan(s) {
		if it.kind != text {
			b.WriteString(s[it.start:it.end])
			continue
		}
		for _, r := range html.UnescapeString(s[it.start:it.end]) {
			switch {
			case r == '&':
				b.WriteString("&amp;")
			case r == '<':
				b.WriteString("&lt;")
			case r == '>':
				b.WriteString("&gt;")
			case r == '\u00a0':
				b.WriteString("&nbsp;")
			case r == '[' || r > 0x7e:
				fmt.Fprintf(&b, "&#%d;", r)
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// wordParagraphs rebuilds the markup as Outlook desktop's Word editor does:
// every div becomes a paragraph with a styled span, and the content goes
// into a WordSection1 div.
func wordParagraphs(s string) string {
	var b strings.Builder
	items := scan(s)
	hasBody := slices.ContainsFunc(items, func(it item) bool { return it.kind == startTag && it.name == "body" })
	if !hasBody {
		b.WriteString(`<div class="WordSection1">`)
	}
	for _, it := range items {
		switch {
		case it.kind == startTag && it.name == "div":
			b.WriteString(`<p class="MsoNormal"><span style="font-family:&quot;Segoe UI&quot;,sans-serif; color:#605E5C">`)
		case it.kind == endTag && it.name == "div":
			b.WriteString("</span></p>")
		case it.kind == endTag && it.name == "body":
			b.WriteString("</div>" + s[it.start:it.end])
		default:
			b.WriteString(s[it.start:it.end])
		}
		if it.kind == startTag && it.name == "body" {
			b.WriteString(`<div class="WordSection1">`)
		}
	}
	if !hasBody {
		b.WriteString("</div>")
	}
	return b.String()
}

// toText converts HTML to a text body the way Exchange does for text
// clients: block ends and <br> become CRLF, links become text<url>, and
// the head is dropped.
func toText(s string) string {
	var b strings.Builder
	var href string
	head := false
	for _, it := range scan(s) {
		switch it.kind {
		case text:
			if !head {
				b.WriteString(strings.Join(strings.Fields(html.UnescapeString(s[it.start:it.end])), " "))
			}
		case startTag:
			switch it.name {
			case "head":
				head = true
			case "br":
				b.WriteString("\r\n")
			case "a":
				href = attr(s, it, "href")
			}
		case endTag:
			switch it.name {
			case "head":
				head = false
			case "div", "p", "tr":
				b.WriteString("\r\n")
			case "a":
				if href != "" {
					b.WriteString("<" + href + ">")
				}
				href = ""
			}
		}
	}
	return b.String()
}

// foldText writes a text body with CRLF line ends, folds lines longer than
// 60 bytes at a space, and adds a final CRLF.
func foldText(s string) string {
	var b strings.Builder
	col := 0
	for _, c := range []byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")) {
		switch {
		case c == ' ' && col > 60:
			b.WriteString("\r\n ")
			col = 1
		case c == '\n':
			b.WriteByte(c)
			col = 0
		default:
			b.WriteByte(c)
			col++
		}
	}
	return b.String() + "\r\n"
}
