package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceSectionKeepsTheProse(t *testing.T) {
	t.Parallel()
	doc := "# Benchmarks\n\nProse.\n\n<!-- bench:a -->\nold table\n<!-- /bench:a -->\n\nMore prose, by hand.\n<!-- bench:b --><!-- /bench:b -->\n"
	got, err := replaceSection(doc, "a", "\n| new | table |\n\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nProse.\n\n<!-- bench:a -->\n| new | table |\n<!-- /bench:a -->\n\nMore prose, by hand.\n<!-- bench:b --><!-- /bench:b -->\n"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if again, _ := replaceSection(got, "a", "| new | table |"); again != got {
		t.Fatal("rewriting with the same content changed the document")
	}
	for _, bad := range []string{"no markers", "<!-- /bench:a --> <!-- bench:a -->", "<!-- bench:a --><!-- /bench:a --><!-- bench:a --><!-- /bench:a -->"} {
		if _, err := replaceSection(bad, "a", "x"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestAddinTable(t *testing.T) {
	t.Parallel()
	log := "# Subtest: task pane\n# first contentful paint: 84, 96, 110, 136, 90 ms (median 96 ms; goal 200 ms)\n" +
		"# task-pane assets: 61.4 KB, 21.6 KB gzipped (goal 50 KB)\n# pass 20\n# fail 0\n"
	md, err := addinTable(log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 21.6 KB (61.4 KB raw) |", "median of 5 | ≤ 200 ms | 96 ms (single loads 84–136 ms) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "failed") {
		t.Errorf("no test failed:\n%s", md)
	}
	if md, _ := addinTable(strings.Replace(log, "# fail 0", "# fail 2", 1)); !strings.Contains(md, "2 browser tests failed") {
		t.Errorf("failures not reported:\n%s", md)
	}
	if _, err := addinTable("nothing printed"); err == nil {
		t.Error("no error for a log without numbers")
	}
}

func TestRunRewritesTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	doc := filepath.Join(dir, "BENCHMARKS.md")
	table := filepath.Join(dir, "t.md")
	os.WriteFile(doc, []byte("Intro.\n<!-- bench:machine -->\n<!-- /bench:machine -->\n<!-- bench:x -->\nold\n<!-- /bench:x -->\nEnd.\n"), 0o644)
	os.WriteFile(table, []byte("| a |\n"), 0o644)
	if err := run([]string{"-file", doc, "-machine", "-section", "x=" + table}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(doc)
	got := string(b)
	if !strings.HasPrefix(got, "Intro.\n<!-- bench:machine -->\nMachine for every number below: ") ||
		!strings.HasSuffix(got, "<!-- bench:x -->\n| a |\n<!-- /bench:x -->\nEnd.\n") {
		t.Fatalf("rewritten:\n%s", got)
	}
	if err := run([]string{"-file", doc, "-section", "missing=" + table}); err == nil {
		t.Fatal("no error for a section without markers")
	}
}
