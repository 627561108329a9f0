package qoe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/webscheduler/webscheduler/backend/qoe/rtcpxr"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// reporter is what the transport knows about who sent a report.
type reporter struct {
	userAgent string // SIP or HTTP User-Agent
	from      string // SIP From of the PUBLISH: the reporting endpoint's AOR
}

// ingest parses and stores one vq-rtcpxr body, whole or not at all.
func (s *Service) ingest(ctx context.Context, body []byte, rep reporter) (*rtcpxr.Report, error) {
	r, err := rtcpxr.Parse(body)
	if err != nil {
		var perr *rtcpxr.Error
		if errors.As(err, &perr) {
			return nil, scheduler.Wrap(scheduler.ECodeInvalid, "Malformed report: "+perr.Error()+".", err)
		}
		return nil, err
	}
	if _, err := s.store(ctx, s.fromRTCPXR(r, rep), false); err != nil {
		return nil, err
	}
	return r, nil
}

// fromRTCPXR maps a report to a call and up to two streams: the one the
// reporter received (LocalMetrics) and the one it sent, as measured by its
// peer (RemoteMetrics).
func (s *Service) fromRTCPXR(r *rtcpxr.Report, rep reporter) *call {
	c := &call{Source: SourceRTCPXR, ExternalID: r.CallID, Start: r.Local.Start, End: r.Local.Stop}
	c.Organizer, _ = sipUser(r.OrigID)
	localID := r.LocalID
	if localID == "" {
		localID = rep.from
	}
	device := rep.userAgent
	for _, x := range r.Extensions {
		if strings.EqualFold(x.Name, "x-UserAgent") && device == "" {
			device = x.Value
		}
	}
	if device == "" {
		device = r.LocalGroup
	}
	local := side{id: localID, device: device, addr: r.LocalAddr}
	remote := side{id: r.RemoteID, device: r.RemoteGroup, addr: r.RemoteAddr}
	c.Streams = append(c.Streams, s.rtcpxrStream(r, r.Local, "inbound", local, remote, nil))
	if m := r.Remote; m != nil {
		if m.Start.Before(c.Start) {
			c.Start = m.Start
		}
		if m.Stop.After(c.End) {
			c.End = m.Stop
		}
		c.Streams = append(c.Streams, s.rtcpxrStream(r, m, "outbound", remote, local, r.Local.Session))
	}
	return c
}

// side is one endpoint of the RTP session.
type side struct {
	id, device string
	addr       *rtcpxr.Addr
}

func (s *Service) rtcpxrStream(r *rtcpxr.Report, m *rtcpxr.Metrics, dir string, rx, tx side, fallback *rtcpxr.SessionDesc) stream {
	st := stream{
		Key:       streamKey(rx.addr, tx.addr),
		Start:     m.Start,
		End:       m.Stop,
		Modality:  "audio",
		Direction: dir,
		Device:    rx.device,
	}
	st.UserID, st.UserName = sipUser(rx.id)
	st.PeerUserID, _ = sipUser(tx.id)
	if rx.addr != nil {
		st.IP, st.Subnet = s.endpoint(rx.addr.IP)
		st.Port = rx.addr.Port
	}
	if tx.addr != nil {
		st.PeerIP = s.peer(tx.addr.IP)
		st.PeerPort = tx.addr.Port
	}
	sd := m.Session
	if sd == nil {
		sd = fallback
	}
	st.Codec = codecName(sd)
	var mm measures
	if pl := m.PacketLoss; pl != nil {
		st.PacketLoss, mm.packetLoss = pl.NLR, pl.NLR
	}
	if d := m.Delay; d != nil {
		st.JitterMS = floatOf(d.IAJ)
		if st.JitterMS == nil {
			st.JitterMS = floatOf(d.MAJ)
		}
		st.RoundTripMS = floatOf(d.RTD)
		mm.jitter, mm.roundTrip = st.JitterMS, st.RoundTripMS
	}
	if q := m.QualityEst; q != nil {
		st.MOSLQ, st.MOSCQ = q.MOSLQ, q.MOSCQ
		mm.mosLQ, mm.mosCQ, mm.rLQ, mm.rCQ = q.MOSLQ, q.MOSCQ, q.RLQ, q.RCQ
	}
	st.Poor, st.PoorReasons = s.thresholds.classify(mm)
	st.Metrics, _ = json.Marshal(struct {
		Kind       rtcpxr.Kind        `json:"kind"`
		CallTerm   bool               `json:"callTerm,omitempty"`
		Alert      *rtcpxr.Alert      `json:"alert,omitempty"`
		DialogID   string             `json:"dialogId,omitempty"`
		Metrics    *rtcpxr.Metrics    `json:"metrics"`
		Extensions []rtcpxr.Extension `json:"extensions,omitempty"`
	}{r.Kind, r.CallTerm, r.Alert, r.DialogID, m, r.Extensions})
	return st
}

// streamKey names a stream by its receiver's address and its sender's
// SSRC, so that the two endpoints' reports of one stream (one's
// LocalMetrics, the other's RemoteMetrics) land on the same row. It is
// hashed: the key must not keep an address that TruncateIPs removes.
func streamKey(rx, tx *rtcpxr.Addr) string {
	var b strings.Builder
	if rx != nil {
		b.WriteString(netip.AddrPortFrom(rx.IP, uint16(rx.Port)).String())
	}
	b.WriteString("|")
	if tx != nil {
		b.WriteString(tx.SSRC)
		if tx.SSRC == "" {
			b.WriteString(netip.AddrPortFrom(tx.IP, uint16(tx.Port)).String())
		}
	}
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:12])
}

// codecName is the payload description, or the name RFC 3551 gives the
// static payload type.
func codecName(sd *rtcpxr.SessionDesc) string {
	if sd == nil {
		return ""
	}
	if sd.PD != "" {
		return sd.PD
	}
	if sd.PT == nil {
		return ""
	}
	static := map[int]string{0: "PCMU", 3: "GSM", 4: "G723", 8: "PCMA", 9: "G722", 18: "G729"}
	if n, ok := static[*sd.PT]; ok {
		return n
	}
	return "PT " + strconv.Itoa(*sd.PT)
}

// sipUser reads `"Alice" <sip:alice@Example.org>;tag=1` as the user
// "alice@example.org" and the display name "Alice".
func sipUser(s string) (user, name string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	uri := s
	if i := strings.IndexByte(s, '<'); i >= 0 {
		name = strings.Trim(strings.TrimSpace(s[:i]), `"`)
		uri = s[i+1:]
		if j := strings.IndexByte(uri, '>'); j >= 0 {
			uri = uri[:j]
		}
	}
	if i := strings.IndexAny(uri, ";? \t"); i >= 0 {
		uri = uri[:i]
	}
	lower := strings.ToLower(uri)
	for _, scheme := range []string{"sips:", "sip:", "tel:"} {
		if strings.HasPrefix(lower, scheme) {
			uri = uri[len(scheme):]
			break
		}
	}
	if at := strings.LastIndexByte(uri, '@'); at >= 0 {
		uri = uri[:at] + strings.ToLower(uri[at:])
	}
	return uri, name
}

func floatOf(i *int) *float64 {
	if i == nil {
		return nil
	}
	f := float64(*i)
	return &f
}
