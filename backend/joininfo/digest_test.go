package joininfo

import (
	"slices"
	"strings"
	"testing"
)

// A block keeps its digest through every rewriting Exchange and Outlook
// do to HTML, and a block with other numbers, links or words does not. (A
// block turned into text by a client is not the text template's block; a
// refresh writes it once more, in text, and it is current from then on.)
func TestDigestSurvivesRewriting(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"en", "de", "fr", "ja"} {
		b := mustRender(t, loc, testMeeting)
		changed := testMeeting
		changed.DialIn = slices.Clone(testMeeting.DialIn)
		changed.DialIn[0].Number = "+1 206-555-0100"
		other := mustRender(t, loc, changed)
		for _, m := range htmlManglings {
			if m.toText {
				continue
			}
			body := m.apply(Replace("<p>Agenda: plans &amp; budget.</p>", BodyHTML, b))
			typ := BodyHTML
			got, ok := DigestOf(body, typ)
			if !ok {
				t.Fatalf("%s/%s: no block", loc, m.name)
			}
			if want := b.Digest(typ); !got.Equal(want) {
				t.Errorf("%s/%s: digest changed:\n got %+v\nwant %+v", loc, m.name, got, want)
			}
			if next := other.Digest(typ); got.Equal(next) {
				t.Errorf("%s/%s: a changed number gives the same digest", loc, m.name)
			} else if ch := got.Changes(next); !slices.Equal(ch, []string{"dial-in numbers", "text"}) {
				t.Errorf("%s/%s: changes = %v", loc, m.name, ch)
			}
		}
	}
}

func TestDigestOfNoBlock(t *testing.T) {
	t.Parallel()
	if _, ok := DigestOf("<p>no block</p>", BodyHTML); ok {
		t.Fatal("found a block in a body without one")
	}
}

// Changes names parts, never values: a passcode must not reach a report.
func TestChangesNameNoValues(t *testing.T) {
	t.Parallel()
	a := mustRender(t, "en", testMeeting)
	m := testMeeting
	m.Passcode = "999999"
	m.JoinURL = "https://meet.example.com/j/other"
	ch := a.Digest(BodyHTML).Changes(mustRender(t, "en", m).Digest(BodyHTML))
	if strings.Contains(strings.Join(ch, " "), "999999") || !slices.Equal(ch, []string{"links", "text"}) {
		t.Fatalf("changes = %v", ch)
	}
}

// The locale whose rendering is most like a block is its own.
func TestSimilarityFindsTheLocale(t *testing.T) {
	t.Parallel()
	changed := testMeeting
	changed.DialIn = nil
	for _, loc := range []string{"en", "de", "fr", "ja"} {
		old := mustRender(t, loc, testMeeting).Digest(BodyHTML).Trigrams()
		best, score := "", -1.0
		for _, cand := range DefaultTemplates().Locales() {
			if s := old.Similarity(mustRender(t, cand, changed).Digest(BodyHTML).Trigrams()); s > score {
				best, score = cand, s
			}
		}
		if best != loc {
			t.Errorf("a %s block looks most like %s", loc, best)
		}
	}
}

// Similarity is the share of letter triples two texts have in common,
// counted with repeats: the same score, to the bit, as counting them in
// maps, for every locale's blocks, short texts, repeats and broken UTF-8.
func TestSimilarityCountsTriples(t *testing.T) {
	t.Parallel()
	byMaps := func(a, b string) float64 {
		count := func(s string) (map[string]int, int) {
			r, m := []rune(s), map[string]int{}
			for i := 0; i+3 <= len(r); i++ {
				m[string(r[i:i+3])]++
			}
			return m, max(len(r)-2, 0)
		}
		ma, na := count(a)
		mb, nb := count(b)
		if na+nb == 0 {
			return 1
		}
		common := 0
		for w, n := range ma {
			common += min(n, mb[w])
		}
		return 2 * float64(common) / float64(na+nb)
	}
	texts := []string{"", "a", "ab", "abc", "abcabc", "aaaaaa", "aaab", "日本語の会議", "\xff\xfeab\xff", "a\xffb\xfec", "\U0010ffffab"}
	for _, loc := range DefaultTemplates().Locales() {
		texts = append(texts, mustRender(t, loc, testMeeting).Digest(BodyHTML).Text, mustRender(t, loc, otherMeeting).Digest(BodyText).Text)
	}
	for _, a := range texts {
		for _, b := range texts {
			if got, want := (Digest{Text: a}).Trigrams().Similarity(Digest{Text: b}.Trigrams()), byMaps(a, b); got != want {
				t.Errorf("Similarity(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}

func TestDigestOfTextBlocks(t *testing.T) {
	t.Parallel()
	b := mustRender(t, "de", testMeeting)
	body := foldText(Replace("Agenda\r\n", BodyText, b))
	got, ok := DigestOf(body, BodyText)
	if !ok || !got.Equal(b.Digest(BodyText)) {
		t.Fatalf("text digest %+v, want %+v", got, b.Digest(BodyText))
	}
}
