package emugraph

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// How "Exchange" stores and renders event bodies. The shapes are copied from
// the oracle bodies in shared/oracles/event-bodies (see its README): a sent
// fragment comes back wrapped in a document (01), text is stored as converted
// HTML (12), and text rendering turns blocks and <br> into CRLF and links
// into "text<url>" (07).

var fullDocument = regexp.MustCompile(`(?i)<html[\s>]`)

// ExchangeHTML is the default Options.RewriteHTML: a fragment is wrapped in a
// document with CRLF after each tag, byte for byte as Graph returned the
// fragment of oracle 01; a full document is kept as it is.
func ExchangeHTML(content string) string {
	if fullDocument.MatchString(content) {
		return content
	}
	return "<html>\r\n<head>\r\n</head>\r\n<body>\r\n" + content + "\r\n</body>\r\n</html>\r\n"
}

// textToHTML is how Exchange stores a body sent as text (oracle 12).
func textToHTML(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	inner := strings.Join(lines, "<br>\r\n")
	if strings.TrimSpace(text) == "" {
		inner = "&nbsp;"
	}
	return "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n" +
		"<meta name=\"Generator\" content=\"Microsoft Exchange Server\">\r\n" +
		"<!-- converted from text -->\r\n" +
		"<style><!-- .EmailQuote { margin-left: 1pt; padding-left: 4pt; border-left: #800000 2px solid; } --></style></head>\r\n" +
		"<body>\r\n" +
		"<font size=\"2\"><span style=\"font-size:11pt;\"><div class=\"PlainText\">" + inner + "</div></span></font>\r\n" +
		"</body>\r\n" +
		"</html>\r\n"
}

var (
	tagRE   = regexp.MustCompile(`(?s)<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>`)
	hrefRE  = regexp.MustCompile(`(?i)\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))`)
	spaceRE = regexp.MustCompile(`[ \t\r\n\f]+`)
	blocks  = map[string]bool{
		"p": true, "div": true, "table": true, "tr": true, "li": true, "ul": true, "ol": true,
		"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true, "hr": true,
	}
)

// htmlToText renders an HTML body as Graph does for
// Prefer: outlook.body-content-type="text" (oracle 07).
func htmlToText(doc string) string {
	var out []byte
	lineStart := func() bool { return len(out) == 0 || out[len(out)-1] == '\n' }
	trimTrailing := func() {
		for len(out) > 0 && out[len(out)-1] == ' ' {
			out = out[:len(out)-1]
		}
	}
	newline := func() { trimTrailing(); out = append(out, "\r\n"...) }
	text := func(raw string) {
		t := strings.ReplaceAll(html.UnescapeString(spaceRE.ReplaceAllString(raw, " ")), "\u00a0", " ")
		if lineStart() {
			t = strings.TrimLeft(t, " ")
		}
		out = append(out, t...)
	}
	var skip string // inside head, style or script
	var links []string
	pos := 0
	for _, m := range tagRE.FindAllStringSubmatchIndex(doc, -1) {
		if skip == "" {
			text(doc[pos:m[0]])
		}
		pos = m[1]
		if m[4] < 0 {
			continue // a comment
		}
		closing, name, attrs := m[3] > m[2], strings.ToLower(doc[m[4]:m[5]]), doc[m[6]:m[7]]
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch {
		case name == "head" || name == "style" || name == "script":
			if !closing {
				skip = name
			}
		case name == "br":
			newline()
		case name == "a" && !closing:
			href := ""
			if h := hrefRE.FindStringSubmatch(attrs); h != nil {
				href = html.UnescapeString(h[1] + h[2] + h[3])
			}
			links = append(links, href)
		case name == "a" && len(links) > 0:
			if href := links[len(links)-1]; href != "" {
				out = append(out, "<"+href+">"...)
			}
			links = links[:len(links)-1]
		case blocks[name] && !lineStart():
			newline()
		}
	}
	if skip == "" {
		text(doc[pos:])
	}
	trimTrailing()
	return string(out)
}

// bodyPreview is the text rendering cut at 255 characters, as Graph does.
func bodyPreview(doc string) string {
	t := strings.TrimSpace(htmlToText(doc))
	if utf8.RuneCountInString(t) <= 255 {
		return t
	}
	return string([]rune(t)[:255])
}

var bodyEndRE = regexp.MustCompile(`(?i)</body\s*>`)

// insertBeforeBodyEnd appends block at the end of the document's body.
func insertBeforeBodyEnd(doc, block string) string {
	locs := bodyEndRE.FindAllStringIndex(doc, -1)
	if len(locs) == 0 {
		return doc + block
	}
	at := locs[len(locs)-1][0]
	return doc[:at] + block + doc[at:]
}

// teamsBlock is the join block Teams appends to an online event's body, in
// the 2019 template of oracle 05 (shortened to the link and conference ID).
func teamsBlock(o *onlineInfo) string {
	sep := "<div style=\"width:100%; height:20px\"><span style=\"white-space:nowrap; color:gray; opacity:.36\">" + strings.Repeat("_", 80) + "</span>\r\n</div>\r\n"
	return sep +
		"<div class=\"me-email-text\" style=\"color:#252424; font-family:'Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif\">\r\n" +
		"<div style=\"margin-top:24px; margin-bottom:10px\"><a class=\"me-email-headline\" href=\"" + html.EscapeString(o.JoinURL) + "\" target=\"_blank\" rel=\"noreferrer noopener\" style=\"font-size:18px; font-family:'Segoe UI Semibold','Segoe UI','Helvetica Neue',Helvetica,Arial,sans-serif; text-decoration:underline; color:#6264a7\">Join\r\n Microsoft Teams Meeting</a> </div>\r\n" +
		"<div style=\"margin-top:10px; margin-bottom:20px\"><span style=\"font-size:12px\">Conference ID:\r\n</span><span style=\"font-size:14px\">" + o.ConferenceID + "# </span></div>\r\n" +
		"</div>\r\n" + sep
}
