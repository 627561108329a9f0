package qoe

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngest measures the sustained ingestion rate: parse, classify
// and store one RFC 6035 report (two streams) per operation, from many
// reporters at once, against the real PostgreSQL. "direct" calls the
// ingestion path; "sip" sends each report as a SIP PUBLISH over UDP and
// waits for the 200. The rate is reported as reports/s.
func BenchmarkIngest(b *testing.B) {
	s := openService(b, Options{})
	start := time.Now().Add(-time.Hour)
	var seq atomic.Int64
	body := func() []byte {
		n := seq.Add(1)
		return []byte(vq{callID: fmt.Sprintf("bench-%d@example.org", n), user: fmt.Sprintf("user%d@example.org", n%500),
			peer: "bob@example.org", ip: fmt.Sprintf("10.%d.%d.%d", n%200, (n/200)%250, n%250+1), device: "BenchPhone",
			start: start, nlr: float64(n % 15), iaj: 12, rtd: 90, mos: 4.1, remote: true}.body())
	}

	b.Run("direct", func(b *testing.B) {
		b.SetParallelism(8) // reporters per core: the database, not the CPU, is the limit
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.ingest(context.Background(), body(), reporter{userAgent: "bench"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	})

	b.Run("sip", func(b *testing.B) {
		addr := benchSIP(b, s)
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			conn, err := net.Dial("udp", addr)
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			buf := make([]byte, 4096)
			for pb.Next() {
				rb := body()
				msg := fmt.Sprintf("PUBLISH sip:collector@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\n"+
					"Max-Forwards: 70\r\nFrom: <sip:bench@example.org>;tag=%s\r\nTo: <sip:collector@example.org>\r\n"+
					"Call-ID: %s\r\nCSeq: 1 PUBLISH\r\nEvent: vq-rtcpxr\r\nContent-Type: application/vq-rtcpxr\r\n"+
					"Content-Length: %d\r\n\r\n%s", addr, conn.LocalAddr(), randomToken(6), randomToken(4), randomToken(8), len(rb), rb)
				if _, err := conn.Write([]byte(msg)); err != nil {
					b.Error(err)
					return
				}
				_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, err := conn.Read(buf)
				if err != nil || !strings.HasPrefix(string(buf[:n]), "SIP/2.0 200") {
					b.Errorf("PUBLISH: %v %.40q", err, buf[:n])
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
	})
}

func benchSIP(b *testing.B, s *Service) string {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeSIP(ctx, udp, tcp) }()
	b.Cleanup(func() { cancel(); <-done })
	return udp.LocalAddr().String()
}
