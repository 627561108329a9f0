package joininfo

import (
	"html"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultSources returns the source of the built-in templates, keyed by
// locale, for admins to start their own from.
func DefaultSources() (htmlByLocale, textByLocale map[string]string) {
	htmlByLocale, textByLocale = map[string]string{}, map[string]string{}
	files, err := fs.Glob(builtin, "templates/*.tmpl")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		b, err := builtin.ReadFile(f)
		if err != nil {
			panic(err)
		}
		locale, format, _ := strings.Cut(strings.TrimSuffix(path.Base(f), ".tmpl"), ".")
		if format == "html" {
			htmlByLocale[locale] = string(b)
		} else {
			textByLocale[locale] = string(b)
		}
	}
	return htmlByLocale, textByLocale
}

// Locales lists the locales t has templates for, sorted.
func (t *Templates) Locales() []string { return slices.Sorted(maps.Keys(t.html)) }

// SampleMeeting is the meeting admins preview templates with.
func SampleMeeting() Meeting { return sampleMeetings()[0] }

// Digest is what a reader of a join block sees and can follow: its visible
// words and its links. Exchange rewrites a stored block's markup, white
// space and character references, but not these, so two digests are equal
// exactly when a reader could not tell the blocks apart.
type Digest struct {
	Text   string   // the visible text without any white space
	Links  []string // http(s) and other link targets, in order
	Phones []string // tel: link targets, in order
}

// DigestOf returns the digest of the join block in body; ok is false when
// body has no block.
func DigestOf(body string, typ BodyType) (d Digest, ok bool) {
	if typ.isText() {
		r, ok := locateText(body)
		if !ok {
			return Digest{}, false
		}
		return Digest{Text: squeeze(body[r.start:r.end])}, true
	}
	items := scan(body)
	r, ok := locateHTML(body, items)
	if !ok {
		return Digest{}, false
	}
	var inside []item
	for _, it := range items {
		if it.start >= r.start && it.end <= r.end {
			inside = append(inside, it)
		}
	}
	return digestHTML(body, inside), true
}

// Digest returns the digest of a rendered block as a body of type typ
// would hold it.
func (b Block) Digest(typ BodyType) Digest {
	if typ.isText() {
		return Digest{Text: squeeze(b.Text)}
	}
	return digestHTML(b.HTML, scan(b.HTML))
}

func digestHTML(s string, items []item) Digest {
	d := Digest{Text: squeeze(project(s, items).text)}
	for _, it := range items {
		if it.kind != startTag || it.name != "a" {
			continue
		}
		href := strings.TrimSpace(html.UnescapeString(attr(s, it, "href")))
		switch {
		case href == "":
		case strings.HasPrefix(strings.ToLower(href), "tel:"):
			d.Phones = append(d.Phones, href)
		default:
			d.Links = append(d.Links, href)
		}
	}
	return d
}

// squeeze drops every white space character, U+00A0 included, so that
// reflowed lines and Word's paragraphs compare equal.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
}

// Equal reports whether a reader could tell the two blocks apart.
func (d Digest) Equal(o Digest) bool {
	return d.Text == o.Text && slices.Equal(d.Links, o.Links) && slices.Equal(d.Phones, o.Phones)
}

// Changes names what differs between d and o: "links", "dial-in numbers"
// and "text", never the values, which may include a passcode.
func (d Digest) Changes(o Digest) []string {
	var out []string
	if !slices.Equal(d.Links, o.Links) {
		out = append(out, "links")
	}
	if !slices.Equal(d.Phones, o.Phones) {
		out = append(out, "dial-in numbers")
	}
	if d.Text != o.Text {
		out = append(out, "text")
	}
	return out
}

// Trigrams are the three-letter runs of a digest's text, each packed into
// one number and sorted: a block scored against many others is counted
// once, and two are compared by a merge, without hashing.
type Trigrams []uint64

// Trigrams returns the runs of d's text: it has no spaces left, and
// trigrams tell languages apart as well as words do.
func (d Digest) Trigrams() Trigrams {
	n := utf8.RuneCountInString(d.Text) - 2
	if n <= 0 {
		return nil
	}
	t := make(Trigrams, 0, n)
	var run uint64 // the last three runes, 21 bits each
	seen := 0
	for _, r := range d.Text {
		run = (run<<21 | uint64(r)) & (1<<63 - 1)
		if seen++; seen >= 3 {
			t = append(t, run)
		}
	}
	slices.Sort(t)
	return t
}

// Similarity scores how many runs t and o share, from 0 to 1; it tells
// which locale an existing block was rendered in.
func (t Trigrams) Similarity(o Trigrams) float64 {
	if len(t)+len(o) == 0 {
		return 1
	}
	common := 0
	for i, j := 0, 0; i < len(t) && j < len(o); {
		switch {
		case t[i] < o[j]:
			i++
		case t[i] > o[j]:
			j++
		default:
			common++
			i++
			j++
		}
	}
	return 2 * float64(common) / float64(len(t)+len(o))
}
