package rtcpxr_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/qoe/rtcpxr"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden parses every testdata/*.txt (the RFC's layout, the draft layout
// phones still send, an alert and an interval report) and compares the
// result with its .golden.json.
func TestGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := rtcpxr.Parse(body)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".txt") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parse of %s differs from %s:\n%s", f, golden, got)
			}
		})
	}
}

func TestParseFields(t *testing.T) {
	t.Parallel()
	body, err := os.ReadFile("testdata/session-draft.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := rtcpxr.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"CallID from inside LocalMetrics", r.CallID, "329662837@192.168.1.21"},
		{"LocalAddr kept from LocalMetrics", r.LocalAddr.IP.String(), "192.168.1.21"},
		{"RemoteAddr not overwritten by RemoteMetrics' swapped view", r.RemoteAddr.SSRC, "ce2256d2"},
		{"RERL 127 means unavailable", r.Local.Signal.RERL == nil, true},
		{"EXTRI 127 means unavailable", r.Local.QualityEst.EXTRI == nil, true},
		{"MOSLQ 0.0 means not measured", r.Remote.QualityEst.MOSLQ == nil, true},
		{"MOSCQ kept", *r.Remote.QualityEst.MOSCQ, 3.1},
		{"x- line kept", r.Extensions, []rtcpxr.Extension{{Name: "x-UserAgent", Value: "Example-Phone/5.3.1a"}}},
	} {
		if !equalJSON(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestMalformed checks that every way a report can be wrong is refused with
// an *Error that says what and where.
func TestMalformed(t *testing.T) {
	t.Parallel()
	const head = "VQSessionReport: CallTerm\r\nCallID: c1\r\nLocalMetrics:\r\n"
	const ts = "Timestamps: START=2024-01-01T10:00:00Z STOP=2024-01-01T10:05:00Z\r\n"
	for _, c := range []struct {
		name, body, want string
	}{
		{"empty", "", "empty"},
		{"blank lines only", "\r\n\r\n", "empty"},
		{"not a report", "Hello: world\r\n", "starts with VQSessionReport"},
		{"SIP message instead of body", "PUBLISH sip:c@example.org SIP/2.0\r\n", "starts with VQSessionReport"},
		{"bad CallTerm", "VQSessionReport: Done\r\n", "CallTerm"},
		{"alert without severity", "VQAlertReport: Type=MOSLQ Dir=local\r\n", "Severity"},
		{"alert bad direction", "VQAlertReport: Type=MOSLQ Severity=Warning Dir=up\r\n", "Dir must be"},
		{"no LocalMetrics", "VQSessionReport\r\nCallID: c1\r\n", "no LocalMetrics"},
		{"no CallID", "VQSessionReport\r\nLocalMetrics:\r\n" + ts, "no CallID"},
		{"no Timestamps", head + "PacketLoss: NLR=1.0\r\n", "no Timestamps"},
		{"no Timestamps in RemoteMetrics", head + ts + "RemoteMetrics:\r\nPacketLoss: NLR=1\r\n", "RemoteMetrics has no Timestamps"},
		{"START missing", head + "Timestamps: STOP=2024-01-01T10:05:00Z\r\n", "START and STOP"},
		{"bad date", head + "Timestamps: START=yesterday STOP=2024-01-01T10:05:00Z\r\n", "RFC 3339"},
		{"year before 1970", head + "Timestamps: START=0000-01-01T00:00:00+01:00 STOP=2024-01-01T10:00:00Z\r\n", "outside 1970..9999"},
		{"STOP before START", head + "Timestamps: START=2024-01-01T10:05:00Z STOP=2024-01-01T10:00:00Z\r\n", "STOP is before START"},
		{"metric outside a block", "VQSessionReport\r\nCallID: c1\r\nPacketLoss: NLR=1\r\n", "must be inside"},
		{"duplicate group", head + ts + "PacketLoss: NLR=1\r\nPacketLoss: NLR=2\r\n", "duplicate PacketLoss"},
		{"duplicate block", head + ts + "LocalMetrics:\r\n", "duplicate LocalMetrics"},
		{"duplicate CallID", head + "CallID: c2\r\n" + ts, "duplicate CallID"},
		{"duplicate parameter", head + ts + "PacketLoss: NLR=1 NLR=2\r\n", "duplicate parameter"},
		{"NLR not a number", head + ts + "PacketLoss: NLR=abc\r\n", "NLR=abc is not a number"},
		{"NLR NaN", head + ts + "PacketLoss: NLR=NaN\r\n", "not a number"},
		{"NLR over 100", head + ts + "PacketLoss: NLR=100.1\r\n", "outside"},
		{"negative delay", head + ts + "Delay: RTD=-1\r\n", "outside"},
		{"JBA out of range", head + ts + "JitterBuffer: JBA=4\r\n", "outside 0..3"},
		{"PT out of range", head + ts + "SessionDesc: PT=128\r\n", "outside 0..127"},
		{"SSUP enum", head + ts + "SessionDesc: SSUP=maybe\r\n", "must be one of on, off"},
		{"MOS above 5", head + ts + "QualityEst: MOSLQ=5.5\r\n", "MOS scale"},
		{"R factor over 127", head + ts + "QualityEst: RLQ=200\r\n", "outside"},
		{"parameter without value", head + ts + "Delay: RTD\r\n", "expected NAME=value"},
		{"unterminated quote", head + ts + "SessionDesc: FMTP=\"annexb=no\r\n", "unterminated"},
		{"line without colon", head + ts + "garbage line\r\n", "expected \"Name: value\""},
		{"field name with spaces", head + ts + "Packet Loss: NLR=1\r\n", "not a field name"},
		{"bad IP", "VQSessionReport\r\nCallID: c1\r\nLocalAddr: IP=10.0.0.300 PORT=1\r\nLocalMetrics:\r\n" + ts, "not an IP address"},
		{"address without IP", "VQSessionReport\r\nCallID: c1\r\nLocalAddr: PORT=1\r\nLocalMetrics:\r\n" + ts, "no IP="},
		{"bad port", "VQSessionReport\r\nCallID: c1\r\nLocalAddr: IP=10.0.0.1 PORT=70000\r\nLocalMetrics:\r\n" + ts, "outside 0..65535"},
		{"bad SSRC", "VQSessionReport\r\nCallID: c1\r\nLocalAddr: IP=10.0.0.1 SSRC=xyz\r\nLocalMetrics:\r\n" + ts, "SSRC"},
		{"bad MAC", "VQSessionReport\r\nCallID: c1\r\nLocalMAC: 00:zz\r\nLocalMetrics:\r\n" + ts, "MAC"},
		{"empty CallID", "VQSessionReport\r\nCallID:\r\nLocalMetrics:\r\n" + ts, "empty value"},
		{"NUL byte", head + ts + "x-Note: a\x00b\r\n", "control character"},
		{"invalid UTF-8", head + ts + "x-Note: \xff\r\n", "UTF-8"},
		{"continuation first", " VQSessionReport\r\n", "continuation"},
		{"too long line", head + ts + "x-Note: " + strings.Repeat("a", 5000) + "\r\n", "longer than"},
		{"too large", strings.Repeat("x", rtcpxr.MaxSize+1), "larger than"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := rtcpxr.Parse([]byte(c.body))
			var perr *rtcpxr.Error
			if !errors.As(err, &perr) {
				t.Fatalf("got %v, %v; want an *rtcpxr.Error", r, err)
			}
			if r != nil {
				t.Error("a report was returned with the error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestErrorNamesTheLine(t *testing.T) {
	t.Parallel()
	body := "VQSessionReport\r\nCallID: c1\r\nLocalMetrics:\r\nTimestamps: START=2024-01-01T10:00:00Z STOP=2024-01-01T10:05:00Z\r\nPacketLoss: NLR=x\r\n"
	_, err := rtcpxr.Parse([]byte(body))
	var perr *rtcpxr.Error
	if !errors.As(err, &perr) || perr.Line != 5 || err.Error() != "vq-rtcpxr line 5: PacketLoss: NLR=x is not a number" {
		t.Fatalf("got %v (line %v)", err, perr)
	}
}

// TestTolerated lists what the RFC leaves open and reporters really send.
func TestTolerated(t *testing.T) {
	t.Parallel()
	const ts = "Timestamps: START=2024-01-01T10:00:00Z STOP=2024-01-01T10:05:00Z\n"
	for _, c := range []struct{ name, body string }{
		{"LF line ends and lower-case names", "vqsessionreport: callterm\ncallid: c1\nlocalmetrics:\ntimestamps: start=2024-01-01T10:00:00Z stop=2024-01-01T10:05:00Z\npacketloss: nlr=1.5\n"},
		{"no space after colon", "VQSessionReport:CallTerm\nCallID:c1\nLocalMetrics:\n" + ts},
		{"space before colon", "VQSessionReport : CallTerm\nCallID : c1\nLocalMetrics :\n" + ts},
		{"unknown parameter ignored", "VQSessionReport\nCallID: c1\nLocalMetrics:\n" + ts + "Delay: RTD=10 OWD=5\n"},
		{"unknown line kept", "VQSessionReport\nCallID: c1\nLocalMetrics:\n" + ts + "x-SIPterm: SDC=OK\n"},
		{"bracketed IPv6", "VQSessionReport\nCallID: c1\nLocalAddr: IP=[2001:db8::1] PORT=5004\nLocalMetrics:\n" + ts},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if _, err := rtcpxr.Parse([]byte(c.body)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FuzzParse checks that no input panics and that an accepted report always
// holds what the rest of the service relies on.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txt")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("VQSessionReport\nCallID: c\nLocalMetrics:\nTimestamps: START=2024-01-01T10:00:00Z STOP=2024-01-01T10:00:00Z\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := rtcpxr.Parse(body)
		if err != nil {
			var perr *rtcpxr.Error
			if r != nil || !errors.As(err, &perr) {
				t.Fatalf("error %v with report %v", err, r)
			}
			return
		}
		if r.CallID == "" || r.Local == nil || r.Local.Stop.Before(r.Local.Start) {
			t.Fatalf("accepted report breaks an invariant: %+v", r)
		}
		if r.Remote != nil && r.Remote.Stop.Before(r.Remote.Start) {
			t.Fatal("remote STOP before START")
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("accepted report does not marshal: %v", err)
		}
	})
}
