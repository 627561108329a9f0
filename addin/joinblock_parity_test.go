package addin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/joininfo"
	"github.com/webscheduler/webscheduler/backend/oracle"
)

// TestJoinBlockParity runs joinblock.js (the pane's copy of the rules, in
// node) and backend/joininfo on the same bodies: the joininfo corpus
// (Exchange-mangled bodies, Graph bodies), the oracle event bodies, and
// random mixtures of markup, markers and text. Both must replace and
// remove the same bytes.
func TestJoinBlockParity(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node not found: the add-in's tests need Node.js 20 or later")
	}
	tmpl := joininfo.DefaultTemplates()
	block, err := tmpl.Render("en", joininfo.Meeting{
		Subject: "Roadmap", OrganizerName: "Adele Vance", JoinURL: "https://meet.example/join/4704555",
		ConferenceID: "4704555", Passcode: "912544", DialIn: []joininfo.DialIn{{Region: "Seattle", Number: "+1 206-555-0142"}},
	})
	if err != nil {
		t.Fatal(err)
	}

	type bodyCase struct {
		Name, Body string
		Text       bool
	}
	var cases []bodyCase
	add := func(name, body string, text bool) {
		cases = append(cases, bodyCase{name, body, text})
		// The same body with a block in it, so that replacing is exercised too.
		typ := bodyType(text)
		cases = append(cases, bodyCase{name + "+block", joininfo.Replace(body, typ, block), text})
	}
	dirs := []string{filepath.Join("..", "backend", "joininfo", "testdata", "mangled"), filepath.Join("..", "backend", "joininfo", "testdata", "oracles")}
	if d := oracle.Dir(); d != "" {
		dirs = append(dirs, filepath.Join(d, "event-bodies"))
	}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil || strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".md") {
				continue
			}
			add(filepath.Base(f), string(b), strings.Contains(filepath.Base(f), ".txt"))
		}
	}
	if len(cases) < 20 {
		t.Fatalf("only %d corpus bodies found: is backend/joininfo/testdata there?", len(cases))
	}
	rng := rand.New(rand.NewPCG(5, 2026))
	for i := range 1500 {
		add(fmt.Sprintf("random-%d", i), randomBody(rng, block), rng.IntN(4) == 0)
	}

	type result struct {
		Found            bool
		ID               string
		Replaced, Remove string
	}
	want := make([]result, len(cases))
	for i, c := range cases {
		typ := bodyType(c.Text)
		_, _, found := joininfo.Find(c.Body, typ)
		id, _ := joininfo.ConferenceIDOf(c.Body, typ)
		want[i] = result{found, id, joininfo.Replace(c.Body, typ, block), joininfo.Remove(c.Body, typ)}
	}

	input, _ := json.Marshal(map[string]any{"html": block.HTML, "text": block.Text, "cases": cases})
	abs, _ := filepath.Abs("joinblock.js")
	script := `import { findBlock, replaceBlock, removeBlock } from ` + jsString("file://"+abs) + `;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { html, text, cases } = JSON.parse(input);
const out = cases.map((c) => {
  const type = c.Text ? "text" : "html";
  const r = findBlock(c.Body, type);
  return { Found: r !== null, ID: r ? r.id : "", Replaced: replaceBlock(c.Body, type, c.Text ? text : html), Remove: removeBlock(c.Body, type) };
});
process.stdout.write(JSON.stringify(out));`
	cmd := exec.Command(node, "--input-type=module", "-e", script)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var got []result
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, w := range want {
		if w.Found {
			found++
		}
	}
	t.Logf("%d bodies, %d with a block", len(cases), found)
	failures := 0
	for i, c := range cases {
		if got[i] != want[i] && failures < 10 {
			failures++
			t.Errorf("%s (text %v): JS and Go differ\nbody: %q\nGo: %+v\nJS: %+v", c.Name, c.Text, c.Body, want[i], got[i])
		}
	}
}

func bodyType(text bool) joininfo.BodyType {
	if text {
		return joininfo.BodyText
	}
	return joininfo.BodyHTML
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// randomBody mixes fragments that stress the rules: markers whole and
// broken, rules, wrappers, entities, comments, raw-text elements, unclosed
// tags and plain words.
func randomBody(rng *rand.Rand, block joininfo.Block) string {
	rule := strings.Repeat("_", 80)
	fragments := []string{
		"<p>", "</p>", "<div>", "</div>", "<div id=\"webscheduler-joininfo\">", "<div id=\"x_webscheduler-joininfo\">",
		"<span class=x>", "</span>", "<br>", "<br/>", "<b>", "</b>", "Agenda", " ", "\r\n", "\n\n", "&nbsp;", "&amp;",
		"&#91;", "&lsqb;", "&lowbar;", "[webscheduler]", "[webscheduler:42]", "[webscheduler:a%20b]", "[/webscheduler]",
		"[webscheduler", "[/webscheduler", rule, rule[:20], "____", "<!-- c -->", "<!--", "<style>p{}</style>", "<style>",
		"<script>x</script>", "<title>t</title>", "<a href=\"x>y\">", "</a>", "<img src=a>", "<", ">", "&", "日本語", "😀",
		"</body>", "</html>", "<html><body>", "\u00a0", "\t", "<p class=MsoNormal>", "<o:p></o:p>", block.HTML, block.Text,
	}
	var b strings.Builder
	for range rng.IntN(30) {
		b.WriteString(fragments[rng.IntN(len(fragments))])
	}
	return b.String()
}
