package joininfo

import (
	"strings"
	"testing"
)

func addSeeds(f *testing.F) {
	b := mustRender(f, "en", testMeeting)
	for _, s := range []string{
		"", "Hi", "<html><head></head><body>Hi</body></html>", "<!--", "<style>", `<a href="`, "</", "&#91;webscheduler]",
		"[webscheduler]", "[/webscheduler]", "[webscheduler:1]x[/webscheduler]", rule + "[webscheduler]",
		"<div>" + b.HTML + "</div>", "<p><b>" + b.HTML, b.HTML + "</i></p>", strings.Replace(b.HTML, "</div>", "", 3),
		b.Text, "Hi\r\n\r\n" + b.Text + "\r\n", prefixIDsAndClasses(b.HTML) + b.HTML,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	if dir, err := oracleBodyDir(); err == nil {
		bodies, err := readOracleBodies(dir)
		if err != nil {
			f.Fatal(err)
		}
		for name, body := range bodies {
			f.Add(body, oracleType(name).isText())
		}
	}
}

func fuzzType(asText bool) BodyType {
	if asText {
		return BodyText
	}
	return BodyHTML
}

// FuzzReplace: for any body, Replace does not panic and is idempotent, Find
// finds the block it wrote, and Remove gives back a body without a block
// (byte for byte the original, when the original had none).
func FuzzReplace(f *testing.F) {
	addSeeds(f)
	b := mustRender(f, "en", testMeeting)
	f.Fuzz(func(t *testing.T, body string, asText bool) {
		typ := fuzzType(asText)
		_, _, had := Find(body, typ)
		out := Replace(body, typ, b)
		if again := Replace(out, typ, b); again != out {
			t.Fatalf("Replace is not idempotent:\nonce  %q\ntwice %q", out, again)
		}
		s, e, ok := Find(out, typ)
		if !ok || out[s:e] != b.of(typ) {
			t.Fatalf("Find after Replace = %d, %d, %v in %q", s, e, ok, out)
		}
		if removed := Remove(out, typ); !had && removed != body {
			t.Fatalf("Remove after Replace = %q, want %q", removed, body)
		}
	})
}

// FuzzFind: for any body, Find does not panic and its region holds a whole
// block that Replace swaps for a new one.
func FuzzFind(f *testing.F) {
	addSeeds(f)
	b := mustRender(f, "en", otherMeeting)
	f.Fuzz(func(t *testing.T, body string, asText bool) {
		typ := fuzzType(asText)
		s, e, ok := Find(body, typ)
		if _, idOK := ConferenceIDOf(body, typ); idOK != ok {
			t.Fatalf("Find says %v, ConferenceIDOf says %v", ok, idOK)
		}
		if !ok {
			if Remove(body, typ) != body {
				t.Fatal("Remove changed a body without a block")
			}
			return
		}
		if s < 0 || s > e || e > len(body) {
			t.Fatalf("Find = %d, %d for a body of %d bytes", s, e, len(body))
		}
		if v := visibleOf(body[s:e], typ); !strings.Contains(v, beginStem) || !strings.Contains(v, endMarker) {
			t.Fatalf("Find's region %q lacks a marker", body[s:e])
		}
		if got, want := Replace(body, typ, b), body[:s]+b.of(typ)+body[e:]; got != want {
			t.Fatalf("Replace = %q, want %q", got, want)
		}
	})
}
