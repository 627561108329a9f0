package rtcpxr

import (
	"fmt"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits that keep a hostile body cheap to refuse.
const (
	MaxSize       = 64 << 10 // bytes
	maxLine       = 4096     // bytes after unfolding
	maxExtensions = 64
)

// scope is where a line sits: before any metrics block, or inside one.
type scope int

const (
	scopeReport scope = iota
	scopeLocal
	scopeRemote
)

// parser holds the state of one Parse call.
type parser struct {
	r     *Report
	scope scope
	block *Metrics
	seen  map[string]bool // metric lines seen in the current block (upper-case)
	ids   map[string]bool // identity lines seen outside RemoteMetrics
}

// Parse parses one vq-rtcpxr body. Line ends may be CRLF or LF; a line
// starting with white space continues the previous one (the RFC's own
// examples fold long SessionDesc lines).
func Parse(body []byte) (*Report, error) {
	if len(body) > MaxSize {
		return nil, &Error{Msg: fmt.Sprintf("the report is larger than %d bytes", MaxSize)}
	}
	if !utf8.Valid(body) {
		return nil, &Error{Msg: "the report is not valid UTF-8"}
	}
	lines, err := unfold(string(body))
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, &Error{Msg: "the report is empty"}
	}
	p := &parser{r: &Report{}, seen: map[string]bool{}, ids: map[string]bool{}}
	if err := p.first(lines[0]); err != nil {
		return nil, err
	}
	for _, l := range lines[1:] {
		if err := p.line(l); err != nil {
			return nil, err
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.r, nil
}

// numbered is one logical line and the number of its first physical line.
type numbered struct {
	n    int
	text string
}

func unfold(s string) ([]numbered, error) {
	var out []numbered
	for i, raw := range strings.Split(s, "\n") {
		raw = strings.TrimSuffix(raw, "\r")
		for _, c := range raw {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return nil, &Error{Line: i + 1, Msg: fmt.Sprintf("control character %U", c)}
			}
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		if raw[0] == ' ' || raw[0] == '\t' {
			if len(out) == 0 {
				return nil, &Error{Line: i + 1, Msg: "the report starts with a continuation line"}
			}
			out[len(out)-1].text += " " + strings.TrimSpace(raw)
		} else {
			out = append(out, numbered{n: i + 1, text: strings.TrimSpace(raw)})
		}
		if len(out[len(out)-1].text) > maxLine {
			return nil, &Error{Line: out[len(out)-1].n, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
		}
	}
	return out, nil
}

// split cuts "Name HCOLON value". Lines without a colon have an empty value
// and ok false.
func split(l string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(l, ":")
	return strings.TrimSpace(name), strings.TrimSpace(value), ok
}

func (p *parser) first(l numbered) error {
	name, value, _ := split(l.text)
	switch {
	case strings.EqualFold(name, string(SessionReport)):
		p.r.Kind = SessionReport
		switch {
		case value == "":
		case strings.EqualFold(value, "CallTerm"):
			p.r.CallTerm = true
		default:
			return &Error{Line: l.n, Msg: fmt.Sprintf("VQSessionReport takes only \"CallTerm\", not %q", value)}
		}
	case strings.EqualFold(name, string(IntervalReport)):
		p.r.Kind = IntervalReport
		if value != "" {
			return &Error{Line: l.n, Msg: fmt.Sprintf("VQIntervalReport takes no value, got %q", value)}
		}
	case strings.EqualFold(name, string(AlertReport)):
		p.r.Kind = AlertReport
		a, err := parseAlert(l.n, value)
		if err != nil {
			return err
		}
		p.r.Alert = a
	default:
		return &Error{Line: l.n, Msg: fmt.Sprintf("a report starts with VQSessionReport, VQIntervalReport or VQAlertReport, not %q", truncate(name))}
	}
	return nil
}

func parseAlert(n int, value string) (*Alert, error) {
	ps, err := params(n, "VQAlertReport", value)
	if err != nil {
		return nil, err
	}
	a := &Alert{}
	for _, kv := range ps {
		switch strings.ToUpper(kv.name) {
		case "TYPE":
			a.Type = kv.value
		case "SEVERITY":
			for _, s := range []string{"Warning", "Critical", "Clear"} {
				if strings.EqualFold(kv.value, s) {
					a.Severity = s
				}
			}
			if a.Severity == "" {
				return nil, &Error{Line: n, Msg: fmt.Sprintf("Severity must be Warning, Critical or Clear, not %q", kv.value)}
			}
		case "DIR":
			a.Direction = strings.ToLower(kv.value)
			if a.Direction != "local" && a.Direction != "remote" {
				return nil, &Error{Line: n, Msg: fmt.Sprintf("Dir must be local or remote, not %q", kv.value)}
			}
		}
	}
	if a.Type == "" || a.Severity == "" || a.Direction == "" {
		return nil, &Error{Line: n, Msg: "VQAlertReport needs Type, Severity and Dir"}
	}
	return a, nil
}

func (p *parser) line(l numbered) error {
	name, value, ok := split(l.text)
	if !ok {
		return &Error{Line: l.n, Msg: fmt.Sprintf("expected \"Name: value\", got %q", truncate(l.text))}
	}
	if !isToken(name) {
		return &Error{Line: l.n, Msg: fmt.Sprintf("%q is not a field name", truncate(name))}
	}
	upper := strings.ToUpper(name)
	switch upper {
	case "LOCALMETRICS", "REMOTEMETRICS":
		return p.open(l.n, upper, value)
	case "TIMESTAMPS", "SESSIONDESC", "JITTERBUFFER", "PACKETLOSS", "BURSTGAPLOSS", "DELAY", "SIGNAL", "QUALITYEST":
		if p.block == nil {
			return &Error{Line: l.n, Msg: name + " must be inside LocalMetrics or RemoteMetrics"}
		}
		if p.seen[upper] {
			return &Error{Line: l.n, Msg: "duplicate " + name + " in " + p.scopeName()}
		}
		p.seen[upper] = true
		if err := p.metric(l.n, upper, value); err != nil {
			return within(err, name)
		}
		return nil
	}
	if fn, ok := identity[upper]; ok {
		return p.identity(l.n, name, upper, value, fn)
	}
	if len(p.r.Extensions) >= maxExtensions {
		return &Error{Line: l.n, Msg: fmt.Sprintf("more than %d unknown lines", maxExtensions)}
	}
	p.r.Extensions = append(p.r.Extensions, Extension{Name: name, Value: value})
	return nil
}

func (p *parser) scopeName() string {
	switch p.scope {
	case scopeLocal:
		return "LocalMetrics"
	case scopeRemote:
		return "RemoteMetrics"
	}
	return "the report"
}

func (p *parser) open(n int, upper, value string) error {
	if value != "" {
		return &Error{Line: n, Msg: fmt.Sprintf("%s takes no value, got %q", upper, truncate(value))}
	}
	if err := p.closeBlock(n); err != nil {
		return err
	}
	m := &Metrics{}
	if upper == "LOCALMETRICS" {
		if p.r.Local != nil {
			return &Error{Line: n, Msg: "duplicate LocalMetrics"}
		}
		p.r.Local, p.scope = m, scopeLocal
	} else {
		if p.r.Remote != nil {
			return &Error{Line: n, Msg: "duplicate RemoteMetrics"}
		}
		p.r.Remote, p.scope = m, scopeRemote
	}
	p.block = m
	p.seen = map[string]bool{}
	return nil
}

// closeBlock checks the block being left: Timestamps are mandatory.
func (p *parser) closeBlock(n int) error {
	if p.block != nil && p.block.Start.IsZero() {
		return &Error{Line: n, Msg: p.scopeName() + " has no Timestamps line"}
	}
	return nil
}

func (p *parser) finish() error {
	if err := p.closeBlock(0); err != nil {
		return err
	}
	if p.r.Local == nil {
		return &Error{Msg: "the report has no LocalMetrics"}
	}
	if p.r.CallID == "" {
		return &Error{Msg: "the report has no CallID"}
	}
	return nil
}

// identitySetter stores an identity line's value, swapped to the report's
// point of view when it comes from RemoteMetrics (draft layout).
type identitySetter struct {
	local, remote func(r *Report, n int, v string) error
}

func text(set func(r *Report) *string) func(*Report, int, string) error {
	return func(r *Report, n int, v string) error {
		if v == "" {
			return &Error{Line: n, Msg: "empty value"}
		}
		*set(r) = v
		return nil
	}
}

func addr(set func(r *Report) **Addr) func(*Report, int, string) error {
	return func(r *Report, n int, v string) error {
		a, err := parseAddr(n, v)
		if err != nil {
			return err
		}
		*set(r) = a
		return nil
	}
}

func mac(set func(r *Report) *string) func(*Report, int, string) error {
	return func(r *Report, n int, v string) error {
		hw, err := net.ParseMAC(v)
		if err != nil {
			return &Error{Line: n, Msg: fmt.Sprintf("%q is not a MAC address", truncate(v))}
		}
		*set(r) = hw.String()
		return nil
	}
}

var (
	callID      = text(func(r *Report) *string { return &r.CallID })
	localID     = text(func(r *Report) *string { return &r.LocalID })
	remoteID    = text(func(r *Report) *string { return &r.RemoteID })
	origID      = text(func(r *Report) *string { return &r.OrigID })
	fromID      = text(func(r *Report) *string { return &r.FromID })
	toID        = text(func(r *Report) *string { return &r.ToID })
	localGroup  = text(func(r *Report) *string { return &r.LocalGroup })
	remoteGroup = text(func(r *Report) *string { return &r.RemoteGroup })
	dialogID    = text(func(r *Report) *string { return &r.DialogID })
	localAddr   = addr(func(r *Report) **Addr { return &r.LocalAddr })
	remoteAddr  = addr(func(r *Report) **Addr { return &r.RemoteAddr })
	localMAC    = mac(func(r *Report) *string { return &r.LocalMAC })
	remoteMAC   = mac(func(r *Report) *string { return &r.RemoteMAC })

	identity = map[string]identitySetter{
		"CALLID":      {callID, callID},
		"LOCALID":     {localID, remoteID},
		"REMOTEID":    {remoteID, localID},
		"ORIGID":      {origID, origID},
		"FROMID":      {fromID, fromID},
		"TOID":        {toID, toID},
		"LOCALGROUP":  {localGroup, remoteGroup},
		"REMOTEGROUP": {remoteGroup, localGroup},
		"LOCALADDR":   {localAddr, remoteAddr},
		"REMOTEADDR":  {remoteAddr, localAddr},
		"LOCALMAC":    {localMAC, remoteMAC},
		"REMOTEMAC":   {remoteMAC, localMAC},
		"DIALOGID":    {dialogID, dialogID},
	}
)

// identity handles CallID, LocalAddr and the like. At report level and in
// LocalMetrics they are the reporter's view, and a repeat is an error. In
// RemoteMetrics they are the peer's view: swapped, and used only to fill
// what the reporter did not say.
func (p *parser) identity(n int, name, upper, value string, s identitySetter) error {
	if p.scope != scopeRemote {
		if p.ids[upper] {
			return &Error{Line: n, Msg: "duplicate " + name}
		}
		p.ids[upper] = true
		return s.local(p.r, n, value)
	}
	probe := &Report{}
	if err := s.remote(probe, n, value); err != nil {
		return err
	}
	fillMissing(p.r, probe)
	return nil
}

// fillMissing copies into r the identity fields set in from that r lacks.
func fillMissing(r, from *Report) {
	for _, f := range [][2]*string{
		{&r.CallID, &from.CallID}, {&r.LocalID, &from.LocalID}, {&r.RemoteID, &from.RemoteID},
		{&r.OrigID, &from.OrigID}, {&r.FromID, &from.FromID}, {&r.ToID, &from.ToID},
		{&r.LocalGroup, &from.LocalGroup}, {&r.RemoteGroup, &from.RemoteGroup},
		{&r.LocalMAC, &from.LocalMAC}, {&r.RemoteMAC, &from.RemoteMAC}, {&r.DialogID, &from.DialogID},
	} {
		if *f[0] == "" {
			*f[0] = *f[1]
		}
	}
	if r.LocalAddr == nil {
		r.LocalAddr = from.LocalAddr
	}
	if r.RemoteAddr == nil {
		r.RemoteAddr = from.RemoteAddr
	}
}

func parseAddr(n int, v string) (*Addr, error) {
	ps, err := params(n, "address", v)
	if err != nil {
		return nil, err
	}
	a := &Addr{}
	for _, kv := range ps {
		switch strings.ToUpper(kv.name) {
		case "IP":
			ip, err := netip.ParseAddr(strings.Trim(kv.value, "[]"))
			if err != nil {
				return nil, &Error{Line: n, Msg: fmt.Sprintf("IP=%s is not an IP address", truncate(kv.value))}
			}
			a.IP = ip.Unmap()
		case "PORT":
			port, err := intIn(n, "PORT", kv.value, 0, 65535)
			if err != nil {
				return nil, err
			}
			a.Port = *port
		case "SSRC":
			s, err := parseSSRC(kv.value)
			if err != nil {
				return nil, &Error{Line: n, Msg: fmt.Sprintf("SSRC=%s: %v", truncate(kv.value), err)}
			}
			a.SSRC = s
		}
	}
	if !a.IP.IsValid() {
		return nil, &Error{Line: n, Msg: "the address has no IP="}
	}
	return a, nil
}

// parseSSRC reads the RFC's hexadecimal SSRC ("1a3b5c7d" or "0x1a3b5c7d").
// Some reporters print it in decimal; a value too long to be 32-bit hex but
// a valid 32-bit decimal is read as decimal.
func parseSSRC(v string) (string, error) {
	hex := strings.TrimPrefix(strings.TrimPrefix(v, "0x"), "0X")
	if len(hex) >= 1 && len(hex) <= 8 {
		if u, err := strconv.ParseUint(hex, 16, 32); err == nil {
			return strconv.FormatUint(u, 16), nil
		}
	}
	if hex == v {
		if u, err := strconv.ParseUint(v, 10, 32); err == nil {
			return strconv.FormatUint(u, 16), nil
		}
	}
	return "", fmt.Errorf("not a 32-bit hexadecimal number")
}

// metric parses the parameters of one metric group line into the block.
func (p *parser) metric(n int, upper, value string) error {
	ps, err := params(n, "", value)
	if err != nil {
		return err
	}
	m := p.block
	switch upper {
	case "TIMESTAMPS":
		return timestamps(n, m, ps)
	case "SESSIONDESC":
		m.Session = &SessionDesc{}
		return fields(n, ps, map[string]field{
			"PT":   intField(&m.Session.PT, 0, 127),
			"PD":   strField(&m.Session.PD),
			"SR":   intField(&m.Session.SR, 1, 1_000_000),
			"FD":   intField(&m.Session.FD, 0, 65535),
			"FO":   intField(&m.Session.FO, 0, 65535),
			"FPP":  intField(&m.Session.FPP, 0, 65535),
			"PPS":  intField(&m.Session.PPS, 0, 65535),
			"FMTP": strField(&m.Session.FMTP),
			"PLC":  intField(&m.Session.PLC, 0, 3),
			"SSUP": enumField(&m.Session.SSUP, "on", "off"),
		})
	case "JITTERBUFFER":
		m.JitterBuffer = &JitterBuffer{}
		jb := m.JitterBuffer
		return fields(n, ps, map[string]field{
			"JBA": intField(&jb.JBA, 0, 3),
			"JBR": intField(&jb.JBR, 0, 15),
			"JBN": intField(&jb.JBN, 0, 65535),
			"JBM": intField(&jb.JBM, 0, 65535),
			"JBX": intField(&jb.JBX, 0, 65535),
		})
	case "PACKETLOSS":
		m.PacketLoss = &PacketLoss{}
		return fields(n, ps, map[string]field{
			"NLR": percentField(&m.PacketLoss.NLR),
			"JDR": percentField(&m.PacketLoss.JDR),
		})
	case "BURSTGAPLOSS":
		m.BurstGapLoss = &BurstGapLoss{}
		bg := m.BurstGapLoss
		return fields(n, ps, map[string]field{
			"BLD":  percentField(&bg.BLD),
			"BD":   intField(&bg.BD, 0, 65535),
			"GLD":  percentField(&bg.GLD),
			"GD":   intField(&bg.GD, 0, 65535),
			"GMIN": intField(&bg.GMIN, 0, 255),
		})
	case "DELAY":
		m.Delay = &Delay{}
		d := m.Delay
		return fields(n, ps, map[string]field{
			"RTD":  intField(&d.RTD, 0, 65535),
			"ESD":  intField(&d.ESD, 0, 65535),
			"SOWD": intField(&d.SOWD, 0, 65535),
			"IAJ":  intField(&d.IAJ, 0, 65535),
			"MAJ":  intField(&d.MAJ, 0, 65535),
		})
	case "SIGNAL":
		m.Signal = &Signal{}
		s := m.Signal
		// RFC 3611 §4.7.4 uses 127 for "unavailable".
		return fields(n, ps, map[string]field{
			"SL":   sentinelInt(&s.SL, -127, 127, 127),
			"NL":   sentinelInt(&s.NL, -127, 127, 127),
			"RERL": sentinelInt(&s.RERL, 0, 127, 127),
		})
	case "QUALITYEST":
		m.QualityEst = &QualityEst{}
		q := m.QualityEst
		return fields(n, ps, map[string]field{
			"RLQ":         sentinelInt(&q.RLQ, 0, 127, 127),
			"RLQESTALG":   strField(&q.RLQEstAlg),
			"RCQ":         sentinelInt(&q.RCQ, 0, 127, 127),
			"RCQESTALG":   strField(&q.RCQEstAlg),
			"EXTRI":       sentinelInt(&q.EXTRI, 0, 127, 127),
			"EXTRIESTALG": strField(&q.ExtRIEstAlg),
			"EXTRO":       sentinelInt(&q.EXTRO, 0, 127, 127),
			"EXTROESTALG": strField(&q.ExtROEstAlg),
			"MOSLQ":       mosField(&q.MOSLQ),
			"MOSLQESTALG": strField(&q.MOSLQEstAlg),
			"MOSCQ":       mosField(&q.MOSCQ),
			"MOSCQESTALG": strField(&q.MOSCQEstAlg),
			"QOEESTALG":   strField(&q.QoEEstAlg),
		})
	}
	return nil
}

func timestamps(n int, m *Metrics, ps []param) error {
	for _, kv := range ps {
		var dst *time.Time
		switch strings.ToUpper(kv.name) {
		case "START":
			dst = &m.Start
		case "STOP":
			dst = &m.Stop
		default:
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, kv.value)
		if err != nil {
			return &Error{Line: n, Msg: fmt.Sprintf("%s=%s is not an RFC 3339 date-time", strings.ToUpper(kv.name), truncate(kv.value))}
		}
		if t = t.UTC(); t.Year() < 1970 || t.Year() > 9999 {
			return &Error{Line: n, Msg: fmt.Sprintf("%s=%s is outside 1970..9999", strings.ToUpper(kv.name), truncate(kv.value))}
		}
		*dst = t
	}
	switch {
	case m.Start.IsZero() || m.Stop.IsZero():
		return &Error{Line: n, Msg: "Timestamps needs START and STOP"}
	case m.Stop.Before(m.Start):
		return &Error{Line: n, Msg: "STOP is before START"}
	}
	return nil
}

// within prefixes an error's message with the line's field name.
func within(err error, name string) error {
	if e, ok := err.(*Error); ok {
		return &Error{Line: e.Line, Msg: name + ": " + e.Msg}
	}
	return err
}

// field parses one parameter value into its destination.
type field func(n int, name, value string) error

// fields applies each known parameter; unknown ones are ignored, as a
// collector must for parameters defined after RFC 6035.
func fields(n int, ps []param, known map[string]field) error {
	for _, kv := range ps {
		name := strings.ToUpper(kv.name)
		if f, ok := known[name]; ok {
			if err := f(n, name, kv.value); err != nil {
				return err
			}
		}
	}
	return nil
}

func intField(dst **int, lo, hi int) field {
	return func(n int, name, v string) (err error) {
		*dst, err = intIn(n, name, v, lo, hi)
		return err
	}
}

// sentinelInt is an integer whose value unavailable means "not measured".
func sentinelInt(dst **int, lo, hi, unavailable int) field {
	return func(n int, name, v string) error {
		i, err := intIn(n, name, v, lo, hi)
		if err != nil {
			return err
		}
		if *i != unavailable {
			*dst = i
		}
		return nil
	}
}

func intIn(n int, name, v string, lo, hi int) (*int, error) {
	i, err := strconv.Atoi(v)
	if err != nil {
		return nil, &Error{Line: n, Msg: fmt.Sprintf("%s=%s is not an integer", name, truncate(v))}
	}
	if i < lo || i > hi {
		return nil, &Error{Line: n, Msg: fmt.Sprintf("%s=%d is outside %d..%d", name, i, lo, hi)}
	}
	return &i, nil
}

func floatIn(n int, name, v string, lo, hi float64) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, &Error{Line: n, Msg: fmt.Sprintf("%s=%s is not a number", name, truncate(v))}
	}
	if f < lo || f > hi {
		return 0, &Error{Line: n, Msg: fmt.Sprintf("%s=%s is outside %g..%g", name, v, lo, hi)}
	}
	return f, nil
}

func percentField(dst **float64) field {
	return func(n int, name, v string) error {
		f, err := floatIn(n, name, v, 0, 100)
		if err == nil {
			*dst = &f
		}
		return err
	}
}

// mosField reads a MOS (1.0-5.0). 0 and 12.7 (RFC 3611's 127, "unavailable",
// printed in tenths) are outside the scale: reporters send them when they
// have no estimate, so they mean "not measured".
func mosField(dst **float64) field {
	return func(n int, name, v string) error {
		f, err := floatIn(n, name, v, 0, 12.7)
		if err != nil {
			return err
		}
		switch {
		case f == 0 || f == 12.7:
		case f < 1 || f > 5:
			return &Error{Line: n, Msg: fmt.Sprintf("%s=%s is outside the MOS scale 1..5", name, v)}
		default:
			*dst = &f
		}
		return nil
	}
}

func strField(dst *string) field {
	return func(n int, name, v string) error {
		*dst = v
		return nil
	}
}

func enumField(dst *string, allowed ...string) field {
	return func(n int, name, v string) error {
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				*dst = a
				return nil
			}
		}
		return &Error{Line: n, Msg: fmt.Sprintf("%s=%s must be one of %s", name, truncate(v), strings.Join(allowed, ", "))}
	}
}

// param is one NAME=value of a line; a value may be a quoted string.
type param struct{ name, value string }

// params splits "A=1 B=2 FMTP=\"x y\"" into its parameters; a name given
// twice is an error. line, when set, prefixes error messages.
func params(n int, line, s string) ([]param, error) {
	if line != "" {
		ps, err := params(n, "", s)
		if err != nil {
			return nil, within(err, line)
		}
		return ps, nil
	}
	var out []param
	seen := map[string]bool{}
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexAny(s, " \t")
		if eq <= 0 || (sp >= 0 && sp < eq) {
			tok := s
			if sp >= 0 {
				tok = s[:sp]
			}
			return nil, &Error{Line: n, Msg: fmt.Sprintf("expected NAME=value, got %q", truncate(tok))}
		}
		name := s[:eq]
		if !isToken(name) {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("%q is not a parameter name", truncate(name))}
		}
		s = s[eq+1:]
		var value string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, &Error{Line: n, Msg: fmt.Sprintf("unterminated quoted value of %s", name)}
			}
			value, s = s[1:end+1], s[end+2:]
		} else if i := strings.IndexAny(s, " \t"); i >= 0 {
			value, s = s[:i], s[i:]
		} else {
			value, s = s, ""
		}
		key := strings.ToUpper(name)
		if seen[key] {
			return nil, &Error{Line: n, Msg: fmt.Sprintf("duplicate parameter %s", name)}
		}
		seen[key] = true
		out = append(out, param{name: name, value: value})
	}
}

// isToken reports whether s is an RFC 3261 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// truncate keeps error messages short whatever the input.
func truncate(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
