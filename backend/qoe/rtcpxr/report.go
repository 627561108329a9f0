// Package rtcpxr parses the voice-quality reports of RFC 6035
// ("application/vq-rtcpxr"): the VQSessionReport, VQIntervalReport and
// VQAlertReport bodies that phones, gateways and media servers PUBLISH to a
// collector at the end of (or during) a call.
//
// Every metric group the RFC defines is parsed into typed fields: Timestamps,
// SessionDesc, JitterBuffer, PacketLoss, BurstGapLoss, Delay, Signal and
// QualityEst, plus the call identity and address lines. A report is accepted
// whole or refused with an *Error naming the line and the problem; nothing is
// ever returned half parsed.
//
// Field names in the RFC are ABNF literals, hence case-insensitive. Reporters
// in the field use two layouts: the RFC's final one (CallID, LocalAddr, ...
// before LocalMetrics) and the draft one still sent by many phones (the same
// lines inside LocalMetrics/RemoteMetrics). Both are accepted.
package rtcpxr

import (
	"net/netip"
	"strconv"
	"time"
)

// MediaType is the content type of the reports (RFC 6035 §5).
const MediaType = "application/vq-rtcpxr"

// EventPackage is the SIP event package name the reports are PUBLISHed under.
const EventPackage = "vq-rtcpxr"

// Kind is the first line of a report.
type Kind string

// The three report kinds of RFC 6035 §4.
const (
	SessionReport  Kind = "VQSessionReport"
	IntervalReport Kind = "VQIntervalReport"
	AlertReport    Kind = "VQAlertReport"
)

// Report is one parsed vq-rtcpxr body. Local are the metrics the reporter
// measured on the stream it received; Remote, when present, are those its
// peer measured (learnt through RTCP XR), i.e. on the stream it sent.
type Report struct {
	Kind Kind `json:"kind"`
	// CallTerm is set for "VQSessionReport: CallTerm", the final report.
	CallTerm bool   `json:"callTerm,omitempty"`
	Alert    *Alert `json:"alert,omitempty"`

	CallID      string `json:"callId"`
	LocalID     string `json:"localId,omitempty"`
	RemoteID    string `json:"remoteId,omitempty"`
	OrigID      string `json:"origId,omitempty"`
	FromID      string `json:"fromId,omitempty"` // draft-era name
	ToID        string `json:"toId,omitempty"`   // draft-era name
	LocalGroup  string `json:"localGroup,omitempty"`
	RemoteGroup string `json:"remoteGroup,omitempty"`
	LocalAddr   *Addr  `json:"localAddr,omitempty"`
	RemoteAddr  *Addr  `json:"remoteAddr,omitempty"`
	LocalMAC    string `json:"localMac,omitempty"`
	RemoteMAC   string `json:"remoteMac,omitempty"`
	DialogID    string `json:"dialogId,omitempty"`

	Local  *Metrics `json:"local"`
	Remote *Metrics `json:"remote,omitempty"`

	// Extensions are lines the RFC does not define (vendors' "x-" lines such
	// as x-UserAgent), kept in order.
	Extensions []Extension `json:"extensions,omitempty"`
}

// Extension is a line outside the RFC's grammar.
type Extension struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Alert is the first line of a VQAlertReport: which metric crossed which
// threshold, how badly, and on which side.
type Alert struct {
	Type      string `json:"type"`
	Severity  string `json:"severity"`  // Warning, Critical or Clear
	Direction string `json:"direction"` // local or remote
}

// Addr is a LocalAddr or RemoteAddr line: the RTP endpoint and its SSRC.
type Addr struct {
	IP   netip.Addr `json:"ip"`
	Port int        `json:"port,omitempty"`
	// SSRC is lower-case hexadecimal without "0x"; "" when not reported.
	SSRC string `json:"ssrc,omitempty"`
}

// Metrics is a LocalMetrics or RemoteMetrics block. Groups a reporter did
// not send are nil, and so are parameters it left out of a group: absent
// and zero are different facts.
type Metrics struct {
	Start        time.Time     `json:"start"`
	Stop         time.Time     `json:"stop"`
	Session      *SessionDesc  `json:"sessionDesc,omitempty"`
	JitterBuffer *JitterBuffer `json:"jitterBuffer,omitempty"`
	PacketLoss   *PacketLoss   `json:"packetLoss,omitempty"`
	BurstGapLoss *BurstGapLoss `json:"burstGapLoss,omitempty"`
	Delay        *Delay        `json:"delay,omitempty"`
	Signal       *Signal       `json:"signal,omitempty"`
	QualityEst   *QualityEst   `json:"qualityEst,omitempty"`
}

// SessionDesc describes the media: payload type and codec, framing, packet
// loss concealment and silence suppression.
type SessionDesc struct {
	PT   *int   `json:"pt,omitempty"`   // RTP payload type, 0-127
	PD   string `json:"pd,omitempty"`   // payload description (codec), e.g. G729
	SR   *int   `json:"sr,omitempty"`   // sample rate, Hz
	FD   *int   `json:"fd,omitempty"`   // frame duration, ms
	FO   *int   `json:"fo,omitempty"`   // frame octets
	FPP  *int   `json:"fpp,omitempty"`  // frames per packet
	PPS  *int   `json:"pps,omitempty"`  // packets per second
	FMTP string `json:"fmtp,omitempty"` // SDP fmtp parameters
	PLC  *int   `json:"plc,omitempty"`  // 0 unspecified, 1 disabled, 2 enhanced, 3 standard
	SSUP string `json:"ssup,omitempty"` // silence suppression: on or off
}

// JitterBuffer is the de-jitter buffer's configuration and delays (ms).
type JitterBuffer struct {
	JBA *int `json:"jba,omitempty"` // 0 unknown, 1 reserved, 2 non-adaptive, 3 adaptive
	JBR *int `json:"jbr,omitempty"` // adaptation rate, 0-15
	JBN *int `json:"jbn,omitempty"` // nominal delay
	JBM *int `json:"jbm,omitempty"` // maximum delay
	JBX *int `json:"jbx,omitempty"` // absolute maximum delay
}

// PacketLoss rates are percentages, 0-100.
type PacketLoss struct {
	NLR *float64 `json:"nlr,omitempty"` // network loss rate
	JDR *float64 `json:"jdr,omitempty"` // jitter buffer discard rate
}

// BurstGapLoss describes how losses cluster (RFC 3611 §4.7.2).
type BurstGapLoss struct {
	BLD  *float64 `json:"bld,omitempty"`  // burst loss density, %
	BD   *int     `json:"bd,omitempty"`   // mean burst duration, ms
	GLD  *float64 `json:"gld,omitempty"`  // gap loss density, %
	GD   *int     `json:"gd,omitempty"`   // mean gap duration, ms
	GMIN *int     `json:"gmin,omitempty"` // gap threshold, packets
}

// Delay values are milliseconds.
type Delay struct {
	RTD  *int `json:"rtd,omitempty"`  // round trip delay
	ESD  *int `json:"esd,omitempty"`  // end system delay
	SOWD *int `json:"sowd,omitempty"` // symmetric one-way delay
	IAJ  *int `json:"iaj,omitempty"`  // inter-arrival jitter
	MAJ  *int `json:"maj,omitempty"`  // mean absolute jitter
}

// Signal levels are dB (dBm0 for SL and NL).
type Signal struct {
	SL   *int `json:"sl,omitempty"`   // signal level
	NL   *int `json:"nl,omitempty"`   // noise level
	RERL *int `json:"rerl,omitempty"` // residual echo return loss
}

// QualityEst holds the quality estimates: R factors (0-120, ITU-T G.107)
// and MOS (1-5), each with the algorithm that produced it.
type QualityEst struct {
	RLQ         *int     `json:"rlq,omitempty"` // listening quality R
	RLQEstAlg   string   `json:"rlqEstAlg,omitempty"`
	RCQ         *int     `json:"rcq,omitempty"` // conversational quality R
	RCQEstAlg   string   `json:"rcqEstAlg,omitempty"`
	EXTRI       *int     `json:"extri,omitempty"` // external R in
	ExtRIEstAlg string   `json:"extriEstAlg,omitempty"`
	EXTRO       *int     `json:"extro,omitempty"` // external R out
	ExtROEstAlg string   `json:"extroEstAlg,omitempty"`
	MOSLQ       *float64 `json:"moslq,omitempty"`
	MOSLQEstAlg string   `json:"moslqEstAlg,omitempty"`
	MOSCQ       *float64 `json:"moscq,omitempty"`
	MOSCQEstAlg string   `json:"moscqEstAlg,omitempty"`
	QoEEstAlg   string   `json:"qoeEstAlg,omitempty"`
}

// Error is a report that does not follow RFC 6035. Its text names the line.
type Error struct {
	Line int    // 1-based; 0 for the report as a whole
	Msg  string // what is wrong
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return "vq-rtcpxr: " + e.Msg
	}
	return "vq-rtcpxr line " + strconv.Itoa(e.Line) + ": " + e.Msg
}
