package qoe

import "slices"

// Thresholds decide when an audio stream is poor: it is poor when any
// measured value crosses its threshold. A value the endpoint did not report
// does not count either way; a stream with no measured value at all is not
// classified (poor is NULL).
//
// Where the defaults come from:
//
//   - PacketLossPercent 10, JitterMS 30, RoundTripMS 500, Degradation 1.0 and
//     ConcealedRatio 0.07 are Microsoft's published classification of a poor
//     audio stream in the Teams Call Quality Dashboard ("Stream
//     classification in Call Quality Dashboard"): a stream is poor if its
//     average packet loss rate exceeds 10 %, its average jitter 30 ms, its
//     average round trip 500 ms, its average network MOS degradation 1.0, or
//     its average ratio of concealed samples 0.07. Using them for SIP reports
//     too makes the two sources comparable on one chart.
//   - MinR 70 follows ITU-T G.109, whose categories put an E-model rating R
//     below 70 at "many users dissatisfied" or worse; MinMOS 3.6 is that
//     R = 70 converted to MOS with ITU-T G.107 Annex B
//     (MOS = 1 + 0.035 R + R (R − 60)(100 − R) 7·10⁻⁶ ≈ 3.60).
//   - A round trip of 500 ms also stays within ITU-T G.114's planning limit
//     of 400 ms one-way delay for acceptable conversation; G.114 prefers
//     under 150 ms one-way, so the threshold flags only clearly bad paths.
type Thresholds struct {
	PacketLossPercent float64 // above: poor
	JitterMS          float64 // above: poor
	RoundTripMS       float64 // above: poor
	MinMOS            float64 // below (MOS-LQ or MOS-CQ): poor
	MinR              int     // below (R-LQ or R-CQ): poor
	Degradation       float64 // above (Teams network MOS degradation): poor
	ConcealedRatio    float64 // above (Teams ratio of concealed samples): poor
}

// DefaultThresholds are the documented defaults above.
var DefaultThresholds = Thresholds{
	PacketLossPercent: 10,
	JitterMS:          30,
	RoundTripMS:       500,
	MinMOS:            3.6,
	MinR:              70,
	Degradation:       1.0,
	ConcealedRatio:    0.07,
}

// Reasons a stream is poor, as stored in poor_reasons.
const (
	ReasonPacketLoss = "packet_loss"
	ReasonJitter     = "jitter"
	ReasonRoundTrip  = "round_trip"
	ReasonMOS        = "mos"
	ReasonRFactor    = "r_factor"
	ReasonDegraded   = "degradation"
	ReasonConcealed  = "concealed_samples"
)

// measures are a stream's values that classification looks at.
type measures struct {
	packetLoss, jitter, roundTrip, mosLQ, mosCQ, degradation, concealed *float64
	rLQ, rCQ                                                            *int
}

// classify returns whether an audio stream is poor and why; poor is nil
// when nothing was measured.
func (t Thresholds) classify(m measures) (poor *bool, reasons []string) {
	measured := false
	above := func(v *float64, limit float64, reason string) {
		if v != nil {
			measured = true
			if *v > limit {
				reasons = append(reasons, reason)
			}
		}
	}
	below := func(v *float64, limit float64, reason string) {
		if v != nil {
			measured = true
			if *v < limit && !slices.Contains(reasons, reason) {
				reasons = append(reasons, reason)
			}
		}
	}
	above(m.packetLoss, t.PacketLossPercent, ReasonPacketLoss)
	above(m.jitter, t.JitterMS, ReasonJitter)
	above(m.roundTrip, t.RoundTripMS, ReasonRoundTrip)
	below(m.mosLQ, t.MinMOS, ReasonMOS)
	below(m.mosCQ, t.MinMOS, ReasonMOS)
	for _, r := range []*int{m.rLQ, m.rCQ} {
		if r != nil {
			f := float64(*r)
			below(&f, float64(t.MinR), ReasonRFactor)
		}
	}
	above(m.degradation, t.Degradation, ReasonDegraded)
	above(m.concealed, t.ConcealedRatio, ReasonConcealed)
	if !measured {
		return nil, nil
	}
	p := len(reasons) > 0
	return &p, reasons
}
