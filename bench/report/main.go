// Command report rewrites the generated parts of BENCHMARKS.md: each
// section between <!-- bench:NAME --> and <!-- /bench:NAME --> is replaced
// by new content, and everything outside the markers (the prose, the
// before/after records) is kept byte for byte.
//
//	go run ./bench/report -file BENCHMARKS.md -machine \
//	  -section request-path=out/request-path.md -addin-log out/addin.log
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

type sectionFlags map[string]string

func (s sectionFlags) String() string { return fmt.Sprint(map[string]string(s)) }

func (s sectionFlags) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok || name == "" || path == "" {
		return errors.New("want NAME=FILE")
	}
	s[name] = path
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	file := fs.String("file", "BENCHMARKS.md", "the Markdown file to rewrite")
	machine := fs.Bool("machine", false, "rewrite the machine section with this machine's details")
	addinLog := fs.String("addin-log", "", "output of scripts/addin-test.sh: rewrite the add-in section from it")
	sections := sectionFlags{}
	fs.Var(sections, "section", "NAME=FILE: replace section NAME with FILE's content (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	doc, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	content := map[string]string{}
	for name, path := range sections {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		content[name] = string(b)
	}
	if *machine {
		content["machine"] = machineDetails()
	}
	if *addinLog != "" {
		b, err := os.ReadFile(*addinLog)
		if err != nil {
			return err
		}
		md, err := addinTable(string(b))
		if err != nil {
			return err
		}
		content["addin"] = md
	}
	out := string(doc)
	for name, c := range content {
		if out, err = replaceSection(out, name, c); err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	return os.WriteFile(*file, []byte(out), 0o644)
}

// replaceSection puts content between the markers of section name.
func replaceSection(doc, name, content string) (string, error) {
	begin, end := "<!-- bench:"+name+" -->", "<!-- /bench:"+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	switch {
	case i < 0 || j < 0:
		return "", fmt.Errorf("no %s … %s markers", begin, end)
	case j < i:
		return "", fmt.Errorf("%s comes before %s", end, begin)
	case strings.Count(doc, begin) > 1 || strings.Count(doc, end) > 1:
		return "", fmt.Errorf("section %s is marked more than once", name)
	}
	content = strings.TrimSpace(content)
	return doc[:i+len(begin)] + "\n" + content + "\n" + doc[j:], nil
}
