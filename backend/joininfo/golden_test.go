package joininfo

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// exchangeBody is an event body as Exchange stores it, with the user's text
// and a Teams-style rule after it (shaped like oracle 06).
var exchangeBody = "<html>\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n" +
	"<div>Let&#39;s define our strategy &amp; bring notes.</div>\r\n" +
	"<div style=\"width:100%; height:20px\"><span style=\"white-space:nowrap; color:gray; opacity:.36\">" + rule + "</span>\r\n</div>\r\n" +
	"</body>\r\n</html>\r\n"

const exchangeTextBody = "Let's define our strategy & bring notes.\r\n" +
	"________________________________________________________________________________\r\n"

// TestOracleBodies inserts a block into every oracle body: the result is a
// golden file, a second Replace changes nothing, and Remove gives back the
// original byte for byte. Then each mangling is applied to the result.
func TestOracleBodies(t *testing.T) {
	t.Parallel()
	bodies := oracleBodies(t)
	b := mustRender(t, "en", testMeeting)
	for _, name := range slices.Sorted(maps.Keys(bodies)) {
		body, typ := bodies[name], oracleType(name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, _, ok := Find(body, typ); ok {
				t.Fatal("Find finds a block in a body that has none")
			}
			out := Replace(body, typ, b)
			golden(t, "oracles/"+name+".golden", out)
			checkOneBlock(t, out, typ)
			if again := Replace(out, typ, b); again != out {
				t.Errorf("second Replace changed the body:\n%s", again)
			}
			if got := Remove(out, typ); got != body {
				t.Errorf("Remove did not restore the original:\ngot  %q\nwant %q", got, body)
			}
		})
		manglings := htmlManglings
		if typ.isText() {
			manglings = textManglings
		}
		for _, m := range manglings {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				checkMangled(t, body, typ, m)
			})
		}
	}
}

// TestManglingGolden applies each mangling to a body with our block; the
// mangled body and the body after Replace are golden files.
func TestManglingGolden(t *testing.T) {
	t.Parallel()
	for _, base := range []struct {
		body      string
		typ       BodyType
		manglings []mangling
	}{
		{exchangeBody, BodyHTML, htmlManglings},
		{exchangeTextBody, BodyText, textManglings},
	} {
		for _, m := range base.manglings {
			t.Run(m.name, func(t *testing.T) {
				t.Parallel()
				mangled, out := checkMangled(t, base.body, base.typ, m)
				ext := ".html"
				if m.toText || base.typ.isText() {
					ext = ".txt"
				}
				golden(t, "mangled/"+m.name+".mangled"+ext, mangled)
				golden(t, "mangled/"+m.name+".replaced"+ext, out)
			})
		}
	}
}

// checkMangled puts testMeeting's block into base, has the user add a line
// after it, mangles the body, and replaces the block with otherMeeting's.
// Find must find exactly the block, Replace must leave the rest alone, and
// the user's text must survive.
func checkMangled(t *testing.T, base string, typ BodyType, m mangling) (mangled, out string) {
	t.Helper()
	a, b := mustRender(t, "en", testMeeting), mustRender(t, "de", otherMeeting)
	withBlock := Replace(base, typ, a)
	_, end, _ := Find(withBlock, typ)
	trailer := "<div>Notes added after the block.</div>"
	if typ.isText() {
		trailer = "\r\nNotes added after the block."
	}
	withBlock = withBlock[:end] + trailer + withBlock[end:]
	userOnly := Remove(withBlock, typ)

	mtyp := typ
	if m.toText {
		mtyp = BodyText
	}
	mangled = m.apply(withBlock)
	checkOneBlock(t, mangled, mtyp)
	s, e, _ := Find(mangled, mtyp)
	out = Replace(mangled, mtyp, b)
	if want := mangled[:s] + b.of(mtyp) + mangled[e:]; out != want {
		t.Fatalf("Replace changed more than the block:\ngot  %q\nwant %q", out, want)
	}
	checkOneBlock(t, out, mtyp)
	if again := Replace(out, mtyp, b); again != out {
		t.Errorf("second Replace changed the body:\n%s", again)
	}
	if id, _ := ConferenceIDOf(out, mtyp); id != otherMeeting.ConferenceID {
		t.Errorf("ConferenceIDOf = %q, want %q", id, otherMeeting.ConferenceID)
	}
	got, want := words(visibleOf(Remove(out, mtyp), mtyp)), words(visibleOf(m.apply(userOnly), mtyp))
	if got != want {
		t.Errorf("the user's text changed:\ngot  %q\nwant %q", got, want)
	}
	if !strings.Contains(got, "Notesaddedaftertheblock.") {
		t.Errorf("the user's line after the block is gone: %q", got)
	}
	return mangled, out
}
