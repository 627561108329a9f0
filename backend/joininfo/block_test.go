package joininfo

import (
	"strings"
	"testing"
)

func TestReplaceInserts(t *testing.T) {
	t.Parallel()
	b := mustRender(t, "en", testMeeting)
	const B = "\x00" // stands for the block in the expectations
	for _, c := range []struct {
		name, body, want string
		typ              BodyType
	}{
		{"fragment", "Does noon work?", "Does noon work?" + B, BodyHTML},
		{"document", "<html><head></head><body><p>Hi</p></body></html>", "<html><head></head><body><p>Hi</p>" + B + "</body></html>", BodyHTML},
		{"crlf document", "<html>\r\n<body>\r\nHi\r\n</body>\r\n</html>\r\n", "<html>\r\n<body>\r\nHi\r\n" + B + "</body>\r\n</html>\r\n", BodyHTML},
		{"upper case", "<HTML><BODY>Hi</BODY></HTML>", "<HTML><BODY>Hi" + B + "</BODY></HTML>", BodyHTML},
		{"</body> in a comment", "<body>Hi<!-- </body> --></body>", "<body>Hi<!-- </body> -->" + B + "</body>", BodyHTML},
		{"</body> in a style", "<body>Hi<style>p{}</body></style>", "<body>Hi<style>p{}</body></style>" + B, BodyHTML},
		{"ends in a style", "<body>Hi<style>p{}</body>", "<body>Hi" + B + "<style>p{}</body>", BodyHTML},
		{"no </body>", "<html><body>Hi</html>", "<html><body>Hi" + B + "</html>", BodyHTML},
		{"ends in a comment", "Hi <!-- draft", "Hi " + B + "<!-- draft", BodyHTML},
		{"ends in a tag", `Hi <a href="x`, "Hi " + B + `<a href="x`, BodyHTML},
		{"empty html", "", B, BodyHTML},
		{"empty text", "", B, BodyText},
		{"text", "Does noon work?", "Does noon work?\r\n\r\n" + B, BodyText},
		{"text type in capitals", "Hi", "Hi\r\n\r\n" + B, "Text"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			want := strings.Replace(c.want, B, b.of(c.typ), 1)
			out := Replace(c.body, c.typ, b)
			if out != want {
				t.Fatalf("Replace:\ngot  %q\nwant %q", out, want)
			}
			checkOneBlock(t, out, c.typ)
			if got := Remove(out, c.typ); got != c.body {
				t.Errorf("Remove = %q, want %q", got, c.body)
			}
			if id, ok := ConferenceIDOf(out, c.typ); !ok || id != testMeeting.ConferenceID {
				t.Errorf("ConferenceIDOf = %q, %v", id, ok)
			}
		})
	}
}

func TestFindNothing(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		"",
		"[webscheduler]",
		"[/webscheduler]",
		"[webscheduler:1] text without an end",
		"[/webscheduler] [webscheduler]", // end before start
		"[webscheduler:1 2]x[/webscheduler]",
		"[webschedulerx]x[/webscheduler]",
		"[ webscheduler]x[/webscheduler]",
		"<!-- [webscheduler]x[/webscheduler] -->",
		"<style>[webscheduler]x[/webscheduler]</style>",
		`<p title="[webscheduler]x[/webscheduler]">`,
		"[webscheduler:" + strings.Repeat("1", maxIDLen+1) + "]x[/webscheduler]",
	} {
		if s, e, ok := Find(body, BodyHTML); ok {
			t.Errorf("Find(%q) = %d, %d", body, s, e)
		}
		if _, ok := ConferenceIDOf(body, BodyHTML); ok {
			t.Errorf("ConferenceIDOf(%q) found a block", body)
		}
	}
}

// A user who deleted part of the block must not lose text to Replace: a
// start marker without its end marker is left alone and a new block is
// appended.
func TestReplacePartlyDeletedBlock(t *testing.T) {
	t.Parallel()
	b := mustRender(t, "en", otherMeeting)
	for _, c := range []struct {
		name, body string
		typ        BodyType
	}{
		{"html start only", "<html><body><div>Agenda</div><div id=\"webscheduler-joininfo\"><div>" + rule + "[webscheduler:291633251]</div>\r\n<div>Join online meeting</div></div><div>Notes typed later</div></body></html>", BodyHTML},
		{"html end only", "<html><body><div>Agenda</div><div>Conference ID: 1</div><div>" + rule + "[/webscheduler]</div><div>Notes typed later</div></body></html>", BodyHTML},
		{"text start only", "Agenda\r\n\r\n" + rule + "[webscheduler:291633251]\r\nJoin online meeting\r\nNotes typed later", BodyText},
		{"text end only", "Agenda\r\nConference ID: 1\r\n" + rule + "[/webscheduler]\r\nNotes typed later", BodyText},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, _, ok := Find(c.body, c.typ); ok {
				t.Fatal("Find found a block")
			}
			out := Replace(c.body, c.typ, b)
			for _, s := range []string{"Agenda", "Notes typed later"} {
				if !strings.Contains(out, s) {
					t.Errorf("%q is gone:\n%s", s, out)
				}
			}
			if id, ok := ConferenceIDOf(out, c.typ); !ok || id != otherMeeting.ConferenceID {
				t.Errorf("ConferenceIDOf = %q, %v; want the new block", id, ok)
			}
			if again := Replace(out, c.typ, b); again != out {
				t.Errorf("second Replace changed the body:\n%s", again)
			}
			if got := Remove(out, c.typ); got != c.body {
				t.Errorf("Remove = %q, want %q", got, c.body)
			}
		})
	}
}

// An x_-prefixed copy was quoted from another message; our own block wins
// wherever it is.
func TestReplacePrefersOwnBlockToQuotedCopy(t *testing.T) {
	t.Parallel()
	ours := mustRender(t, "en", testMeeting).HTML
	quoted := prefixIDsAndClasses(mustRender(t, "en", Meeting{JoinURL: "https://other.example.com/j/5", ConferenceID: "5"}).HTML)
	fresh := mustRender(t, "en", otherMeeting)
	for name, body := range map[string]string{
		"copy after":  "<body>Hi" + ours + "<div>Forwarded:</div>" + quoted + "</body>",
		"copy before": "<body><div>Forwarded:</div>" + quoted + "Hi" + ours + "</body>",
	} {
		if id, _ := ConferenceIDOf(body, BodyHTML); id != testMeeting.ConferenceID {
			t.Errorf("%s: ConferenceIDOf = %q, want ours", name, id)
		}
		out := Replace(body, BodyHTML, fresh)
		if want := strings.Replace(body, ours, fresh.HTML, 1); out != want {
			t.Errorf("%s: Replace:\ngot  %q\nwant %q", name, out, want)
		}
	}
	// With no block of our own, the quoted copy is the block.
	body := "<body>Hi" + quoted + "</body>"
	if id, _ := ConferenceIDOf(body, BodyHTML); id != "5" {
		t.Errorf("ConferenceIDOf = %q, want the copy's", id)
	}
}

// Elements that hold nothing but the block go with it; an element that
// also holds the user's text stays.
func TestRemoveTakesEmptyWrappers(t *testing.T) {
	t.Parallel()
	blk := mustRender(t, "en", testMeeting).HTML
	for _, c := range []struct{ body, want string }{
		{"<body>Hi<div><span>\r\n" + blk + "\r\n</span></div></body>", "<body>Hi</body>"},
		{"<body><div>Hi\r\n" + blk + "</div></body>", "<body><div>Hi\r\n</div></body>"},
		{"<body><div>" + blk + "Bye</div></body>", "<body><div>Bye</div></body>"},
		{"<body><div><br>" + blk + "</div></body>", "<body><div><br></div></body>"},
		{"<body><p><b>" + blk + "</b>", "<body><p>"},
	} {
		if got := Remove(c.body, BodyHTML); got != c.want {
			t.Errorf("Remove(%q)\ngot  %q\nwant %q", c.body, got, c.want)
		}
	}
}

// Tags inside the block that do not pair up are broken markup; the block
// is still replaced without touching text around it, and the result is
// stable.
func TestReplaceBrokenMarkupInBlock(t *testing.T) {
	t.Parallel()
	b := mustRender(t, "en", otherMeeting)
	for _, c := range []struct{ body, userText string }{
		{"<body><p>Hi</p><div><p>" + rule + "[webscheduler]</b>" + rule + "[/webscheduler]</p></div><p>Bye</p></body>", "HiBye"},
		{"<body><p>Hi " + rule + "[webscheduler]</p><p>" + rule + "[/webscheduler] Bye</p></body>", "HiBye"},
		{"<body><div><span>" + rule + "[webscheduler]</div></span>" + rule + "[/webscheduler]</body>", ""},
	} {
		out := Replace(c.body, BodyHTML, b)
		checkOneBlock(t, out, BodyHTML)
		if again := Replace(out, BodyHTML, b); again != out {
			t.Errorf("second Replace changed the body:\n%s\n%s", out, again)
		}
		if got := words(visibleOf(Remove(out, BodyHTML), BodyHTML)); got != c.userText {
			t.Errorf("the user's text is %q, want %q", got, c.userText)
		}
	}
}

func TestConferenceIDOf(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "291633251", "291 633 251#", "a&b]c[d", "会議-7"} {
		b := mustRender(t, "en", Meeting{JoinURL: "https://meet.example.com/j/1", ConferenceID: id})
		for _, typ := range []BodyType{BodyHTML, BodyText} {
			got, ok := ConferenceIDOf(Replace("Hi", typ, b), typ)
			if !ok || got != id {
				t.Errorf("%s: ConferenceIDOf = %q, %v; want %q", typ, got, ok, id)
			}
		}
	}
	if _, ok := ConferenceIDOf("Hi", BodyHTML); ok {
		t.Error("ConferenceIDOf found a block in a body without one")
	}
}

// Underscores the user typed just before the block are not part of its rule.
func TestUserUnderscoresStay(t *testing.T) {
	t.Parallel()
	b := mustRender(t, "en", testMeeting)
	for _, typ := range []BodyType{BodyHTML, BodyText} {
		for _, body := range []string{"___", rule, rule + rule, "<p>" + rule + "</p>"} {
			out := Replace(body, typ, b)
			if got := Remove(out, typ); got != body {
				t.Errorf("%s: Remove(Replace(%q)) = %q", typ, body, got)
			}
		}
	}
}
