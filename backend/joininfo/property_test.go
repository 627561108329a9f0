package joininfo

import (
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestPropertyReplaceAfterMangling: for random user text before and after
// the block, render → insert → random Exchange mangling → replace leaves
// exactly one block and the user's text intact.
func TestPropertyReplaceAfterMangling(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(20240917, 6))
	tmpl := DefaultTemplates()
	locales := []string{"en", "de-DE", "fr", "ja", "pt-BR"}
	for i := range 500 {
		before, beforeHTML := userContent(rng)
		after, afterHTML := userContent(rng)
		render := func() Block {
			b, err := tmpl.Render(locales[rng.IntN(len(locales))], randomMeeting(rng))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		first, second := render(), render()

		typ := BodyHTML
		var body, withBlock string
		var manglings []mangling
		if rng.IntN(4) == 0 {
			typ = BodyText
			body = before
			withBlock = Replace(body, typ, first) + "\r\n" + after
			manglings = textManglings[:rng.IntN(len(textManglings)+1)]
		} else {
			body = beforeHTML
			if rng.IntN(2) == 0 {
				body = "<html><head></head><body>" + beforeHTML + "</body></html>"
			}
			withBlock = Replace(body, typ, first)
			_, e, _ := Find(withBlock, typ)
			withBlock = withBlock[:e] + afterHTML + withBlock[e:]
			for _, j := range rng.Perm(len(htmlManglings)) {
				if m := htmlManglings[j]; !m.toText && rng.IntN(3) == 0 {
					manglings = append(manglings, m)
				}
			}
			if rng.IntN(5) == 0 {
				manglings = append(manglings, htmlManglings[len(htmlManglings)-1])
			}
		}
		mangled := withBlock
		var names []string
		for _, m := range manglings {
			mangled = m.apply(mangled)
			names = append(names, m.name)
			if m.toText {
				typ = BodyText
			}
		}

		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Logf("manglings %v, body:\n%s", names, mangled)
			out := Replace(mangled, typ, second)
			checkOneBlock(t, out, typ)
			if !strings.Contains(out, second.of(typ)) {
				t.Fatal("the new block is not in the body")
			}
			if again := Replace(out, typ, second); again != out {
				t.Fatalf("second Replace changed the body:\n%s", again)
			}
			if got, want := words(visibleOf(Remove(out, typ), typ)), words(before+after); got != want {
				t.Fatalf("the user's text changed:\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

// userContent returns random text a user might type, and the same text as
// the HTML an editor would write for it.
func userContent(rng *rand.Rand) (plain, markup string) {
	pieces := []string{
		"Agenda", "Grüße", "naïve", "日本語の会議", "🙂", "x", "1.", "\u00a0", " ", " ", "\r\n", "\n", "\t",
		"<b>", "</div>", "<!--", "-->", "&amp;", "&nbsp;", "&", "<img src=x onerror=alert(1)>", "<style>", "\"'",
		"_", "___", rule, rule + "___", "[", "]", "[/", ":", "[webschedule", "webscheduler", "/webscheduler]",
	}
	for {
		var plainB, markupB strings.Builder
		for range rng.IntN(12) {
			seg := ""
			for range 1 + rng.IntN(4) {
				seg += pieces[rng.IntN(len(pieces))]
			}
			plainB.WriteString(seg)
			esc := html.EscapeString(seg)
			switch rng.IntN(6) {
			case 0:
				esc = "<p>" + esc + "</p>"
			case 1:
				esc = "<div>" + esc + "</div>"
			case 2:
				esc = `<span style="color:red">` + esc + "</span>"
			case 3:
				esc += "<br>"
			}
			markupB.WriteString(esc)
		}
		// A user who types a whole marker makes a marker; that is not
		// what this test is about.
		if plain := plainB.String(); !hasMarker(plain) {
			return plain, markupB.String()
		}
	}
}

func randomMeeting(rng *rand.Rand) Meeting {
	id := fmt.Sprint(rng.IntN(1_000_000_000))
	m := Meeting{
		Subject:      []string{"", "Review", "<b>Review</b> & more", "会議 [1]", "[/webscheduler]"}[rng.IntN(5)],
		JoinURL:      "https://meet.example.com/j/" + id + "?p=" + fmt.Sprint(rng.IntN(100)),
		ConferenceID: []string{"", id, "A B&C"}[rng.IntN(3)],
	}
	if rng.IntN(2) == 0 {
		m.DialIn = []DialIn{{Region: "Region " + id, Number: "+1 555 " + id, TollFree: rng.IntN(2) == 0}}
		m.DialInURL = "https://meet.example.com/dialin"
	}
	return m
}
