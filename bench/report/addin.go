package main

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The lines addin/test/budget.test.js and the first task-pane test print.
var (
	assetsLine = regexp.MustCompile(`task-pane assets: ([0-9.]+) KB, ([0-9.]+) KB gzipped`)
	paintLine  = regexp.MustCompile(`first contentful paint: ([0-9, ]+) ms \(median ([0-9]+) ms`)
)

// addinTable turns the browser tests' output into the add-in table.
func addinTable(log string) (string, error) {
	a := assetsLine.FindStringSubmatch(log)
	p := paintLine.FindStringSubmatch(log)
	if a == nil || p == nil {
		return "", errors.New("the add-in test output lacks the asset size or first-paint line (did scripts/addin-test.sh run?)")
	}
	var paints []int
	for _, f := range strings.Split(p[1], ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil {
			paints = append(paints, n)
		}
	}
	if len(paints) == 0 {
		return "", errors.New("no first-paint times in the add-in test output")
	}
	failed := ""
	if m := regexp.MustCompile(`(?m)^(?:#|ℹ) fail ([0-9]+)`).FindStringSubmatch(log); m != nil && m[1] != "0" {
		failed = fmt.Sprintf("\n\n%s browser tests failed in this run; see `scripts/addin-test.sh`.", m[1])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| what | goal | measured (%s) |\n|---|---|---|\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&b, "| task-pane assets, gzipped, without Office.js | ≤ 50 KB | %s KB (%s KB raw) |\n", a[2], a[1])
	fmt.Fprintf(&b, "| time to first contentful paint in headless Chromium, warm HTTP cache, median of %d | ≤ 200 ms | %s ms (single loads %d–%d ms) |%s\n",
		len(paints), p[2], slices.Min(paints), slices.Max(paints), failed)
	return b.String(), nil
}
