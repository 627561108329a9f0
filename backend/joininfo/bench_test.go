package joininfo

import (
	"strings"
	"testing"
)

// BenchmarkReplace is the calendar write of "Add online meeting" on an item
// that already shows a block, as Exchange stores it: find the old block
// and put the new one in its place (bench/README.md).
func BenchmarkReplace(b *testing.B) {
	old := mustRender(b, "en", testMeeting)
	fresh := mustRender(b, "en", otherMeeting)
	agenda := strings.Repeat("<div>Agenda item with some words &amp; an entity, as people write them.</div>\r\n", 20)
	body := strings.Replace(exchangeBody, "<body>\r\n", "<body>\r\n"+agenda, 1)
	body = prefixIDsAndClasses(Replace(body, BodyHTML, old))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if out := Replace(body, BodyHTML, fresh); len(out) < len(agenda) {
			b.Fatal("the body lost its text")
		}
	}
}

// BenchmarkRender renders a block for a meeting.
func BenchmarkRender(b *testing.B) {
	tmpl := DefaultTemplates()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render("en", testMeeting); err != nil {
			b.Fatal(err)
		}
	}
}

// staleAndFresh are a stale block in German and a fresh rendering of
// another meeting in every locale.
func staleAndFresh(b *testing.B) (Digest, []Digest) {
	var fresh []Digest
	for _, loc := range DefaultTemplates().Locales() {
		fresh = append(fresh, mustRender(b, loc, otherMeeting).Digest(BodyHTML))
	}
	return mustRender(b, "de", testMeeting).Digest(BodyHTML), fresh
}

// BenchmarkSimilarity scores a stale block against a fresh rendering in
// every locale, counting both sides of each pair.
func BenchmarkSimilarity(b *testing.B) {
	old, fresh := staleAndFresh(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range fresh {
			if s := old.Trigrams().Similarity(d.Trigrams()); s < 0 || s > 1 {
				b.Fatalf("similarity %v", s)
			}
		}
	}
}

// BenchmarkTrigramsSimilarity is BenchmarkSimilarity as a bulk refresh
// tells a stale block's language: the block's triples counted once.
func BenchmarkTrigramsSimilarity(b *testing.B) {
	old, fresh := staleAndFresh(b)
	b.ReportAllocs()
	for b.Loop() {
		was := old.Trigrams()
		for _, d := range fresh {
			if s := was.Similarity(d.Trigrams()); s < 0 || s > 1 {
				b.Fatalf("similarity %v", s)
			}
		}
	}
}
