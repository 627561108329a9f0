package qoe

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
)

// Charts are plain SVG written here on the server: no script, no font or
// style sheet from elsewhere, every text escaped. Each bar carries a <title>
// so that a browser shows its numbers on hover.

const (
	colorGood = "#4c78a8"
	colorPoor = "#e45756"
	colorAxis = "#555"
	colorGrid = "#ddd"
	fontAttrs = `font-family="system-ui, sans-serif" font-size="12" fill="#222"`
)

type svg struct{ bytes.Buffer }

func (s *svg) printf(format string, args ...any) { fmt.Fprintf(&s.Buffer, format, args...) }

// text writes an escaped text element.
func (s *svg) text(x, y float64, anchor, text string) {
	s.printf(`<text x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, x, y, anchor, esc(text))
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *svg) open(w, h float64, title string) {
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" %s>`,
		w, h, w, h, esc(title), fontAttrs)
	s.printf(`<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, esc(title))
	s.text(10, 20, "start", title)
}

func (s *svg) legend(x, y float64) {
	s.printf(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x, y-9, colorGood)
	s.text(x+14, y, "start", "good")
	s.printf(`<rect x="%.1f" y="%.1f" width="10" height="10" fill="%s"/>`, x+60, y-9, colorPoor)
	s.text(x+74, y, "start", "poor")
}

// dayBar is one day: all calls, of which poor.
type dayBar struct {
	label       string
	total, poor int
}

// dailyChart draws stacked columns per day: good calls below, poor on top.
func dailyChart(title string, days []dayBar) []byte {
	const w, h, left, right, top, bottom = 760.0, 320.0, 50.0, 40.0, 40.0, 50.0
	var s svg
	s.open(w, h, title)
	s.legend(w-140, h-10)
	plotW, plotH := w-left-right, h-top-bottom
	max := 0
	for _, d := range days {
		if d.total > max {
			max = d.total
		}
	}
	step := niceStep(float64(max))
	top2 := step * math.Ceil(float64(max)/step)
	if top2 == 0 {
		top2 = step
	}
	for v := 0.0; v <= top2+step/2; v += step {
		y := top + plotH - v/top2*plotH
		s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, left, y, w-right, y, colorGrid)
		s.text(left-6, y+4, "end", fmt.Sprintf("%g", v))
	}
	if len(days) > 0 {
		slot := plotW / float64(len(days))
		barW := math.Max(1, slot*0.8)
		every := int(math.Ceil(float64(len(days)) * 80 / plotW)) // a date label needs ~80 px
		for i, d := range days {
			x := left + float64(i)*slot + (slot-barW)/2
			good := float64(d.total - d.poor)
			hGood := good / top2 * plotH
			hPoor := float64(d.poor) / top2 * plotH
			tip := fmt.Sprintf("%s: %d calls, %d poor", d.label, d.total, d.poor)
			s.printf(`<g><title>%s</title>`, esc(tip))
			s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, top+plotH-hGood, barW, hGood, colorGood)
			s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, top+plotH-hGood-hPoor, barW, hPoor, colorPoor)
			s.printf(`</g>`)
			if i%every == 0 {
				s.text(x+barW/2, h-bottom+16, "middle", d.label)
			}
		}
	} else {
		s.text(w/2, top+plotH/2, "middle", "No data in this period.")
	}
	s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, left, top+plotH, w-right, top+plotH, colorAxis)
	s.text(left, h-10, "start", "calls per day")
	s.printf(`</svg>`)
	return s.Bytes()
}

// hBar is one row of a horizontal bar chart.
type hBar struct {
	label string
	value float64
	poor  bool
	note  string
}

// barChart draws one horizontal bar per row, scaled to max.
func barChart(title, axis string, max float64, bars []hBar) []byte {
	const w, left, right, top, rowH = 760.0, 220.0, 170.0, 40.0, 22.0
	h := top + rowH*math.Max(1, float64(len(bars))) + 40
	var s svg
	s.open(w, h, title)
	plotW := w - left - right
	for i, b := range bars {
		y := top + float64(i)*rowH
		v := math.Min(math.Max(b.value, 0), max)
		fill := colorGood
		if b.poor {
			fill = colorPoor
		}
		s.printf(`<g><title>%s</title>`, esc(fmt.Sprintf("%s: %g %s (%s)", b.label, round1(b.value), axis, b.note)))
		s.text(left-8, y+rowH/2+4, "end", clip(b.label, 34))
		s.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, left, y+3, v/max*plotW, rowH-6, fill)
		s.text(left+v/max*plotW+6, y+rowH/2+4, "start", fmt.Sprintf("%g · %s", round1(b.value), clip(b.note, 26)))
		s.printf(`</g>`)
	}
	if len(bars) == 0 {
		s.text(w/2, top+rowH/2+4, "middle", "No data in this period.")
	}
	base := top + rowH*math.Max(1, float64(len(bars)))
	s.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s"/>`, left, base, left+plotW, base, colorAxis)
	s.text(left, base+16, "start", "0")
	s.text(left+plotW, base+16, "end", fmt.Sprintf("%g %s", max, axis))
	s.legend(w-140, base+16)
	s.printf(`</svg>`)
	return s.Bytes()
}

// niceStep picks a grid step of 1, 2 or 5 times a power of ten giving about
// five lines up to max.
func niceStep(max float64) float64 {
	if max <= 5 {
		return 1
	}
	raw := max / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// clip shortens a label to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
