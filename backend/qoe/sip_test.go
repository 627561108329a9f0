package qoe

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSIP serves s's SIP collector on loopback UDP and TCP ports.
func startSIP(t *testing.T, s *Service) (udpAddr, tcpAddr string) {
	t.Helper()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeSIP(ctx, udp, tcp) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeSIP: %v", err)
		}
	})
	return udp.LocalAddr().String(), tcp.Addr().String()
}

// sipResponse is a parsed SIP response.
type sipResponse struct {
	status  int
	reason  string
	headers map[string]string // lower-case names
}

// publish sends one PUBLISH over UDP, written by hand so the test does not
// trust the SIP stack it tests, and returns the response.
func publish(t *testing.T, addr string, headers map[string]string, body string) sipResponse {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	var b strings.Builder
	fmt.Fprintf(&b, "PUBLISH sip:collector@%s SIP/2.0\r\n", addr)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s\r\n", local, randomToken(6))
	fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: <sip:alice@example.org>;tag=%s\r\nTo: <sip:collector@example.org>\r\n", randomToken(4))
	fmt.Fprintf(&b, "Call-ID: %s@test\r\nCSeq: 1 PUBLISH\r\n", randomToken(8))
	if _, ok := headers["Event"]; !ok {
		b.WriteString("Event: vq-rtcpxr\r\n")
	}
	if _, ok := headers["Content-Type"]; !ok && body != "" {
		b.WriteString("Content-Type: application/vq-rtcpxr\r\n")
	}
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no response: %v", err)
	}
	r := bufio.NewReader(strings.NewReader(string(buf[:n])))
	line, _ := r.ReadString('\n')
	res := sipResponse{headers: map[string]string{}}
	if _, err := fmt.Sscanf(line, "SIP/2.0 %d", &res.status); err != nil {
		t.Fatalf("bad status line %q", line)
	}
	res.reason = strings.TrimSpace(strings.SplitN(line, " ", 3)[2])
	for {
		l, err := r.ReadString('\n')
		l = strings.TrimSpace(l)
		if l == "" || err != nil {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		res.headers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	return res
}

// TestPublishRFC3903 walks a publication through RFC 3903's state machine.
func TestPublishRFC3903(t *testing.T) {
	t.Parallel()
	s := openService(t, Options{})
	addr, _ := startSIP(t, s)
	report := vq{callID: "sip-1@example.org", user: "alice@example.org", peer: "bob@example.org", ip: "192.0.2.10",
		start: time.Now().Add(-time.Hour), nlr: 1, iaj: 5, rtd: 80, mos: 4.2, remote: true}.body()

	first := publish(t, addr, nil, report)
	etag := first.headers["sip-etag"]
	if first.status != 200 || etag == "" || first.headers["expires"] != "3600" {
		t.Fatalf("initial publication: %+v", first)
	}
	refresh := publish(t, addr, map[string]string{"SIP-If-Match": etag, "Expires": "600"}, "")
	if refresh.status != 200 || refresh.headers["expires"] != "600" || refresh.headers["sip-etag"] == "" || refresh.headers["sip-etag"] == etag {
		t.Fatalf("refresh: %+v", refresh)
	}
	current := refresh.headers["sip-etag"]

	for _, c := range []struct {
		name    string
		headers map[string]string
		body    string
		status  int
		header  string // a response header that must be present
		has     string // ... and contain this
	}{
		{"stale entity-tag", map[string]string{"SIP-If-Match": etag}, "", 412, "", ""},
		{"unknown entity-tag", map[string]string{"SIP-If-Match": "nope"}, report, 412, "", ""},
		{"interval too brief", map[string]string{"Expires": "30"}, report, 423, "min-expires", "60"},
		{"long expiry is shortened", map[string]string{"Expires": "86400"}, report, 200, "expires", "3600"},
		{"bad expires", map[string]string{"Expires": "soon"}, report, 400, "", ""},
		{"other event package", map[string]string{"Event": "presence"}, report, 489, "allow-events", "vq-rtcpxr"},
		{"no event", map[string]string{"Event": ""}, report, 489, "", ""},
		{"other media type", map[string]string{"Content-Type": "application/pidf+xml"}, report, 415, "accept", "application/vq-rtcpxr"},
		{"initial publication without body", nil, "", 400, "", ""},
		{"malformed report", nil, strings.Replace(report, "MOSLQ=4.2", "MOSLQ=9.9", 1), 400, "warning", "MOSLQ=9.9 is outside the MOS scale"},
		{"not a report", nil, "hello", 400, "warning", "starts with VQSessionReport"},
	} {
		res := publish(t, addr, c.headers, c.body)
		if res.status != c.status || (c.header != "" && !strings.Contains(res.headers[c.header], c.has)) {
			t.Errorf("%s: got %d %s %v; want %d with %s %q", c.name, res.status, res.reason, res.headers, c.status, c.header, c.has)
		}
	}

	removed := publish(t, addr, map[string]string{"SIP-If-Match": current, "Expires": "0"}, "")
	if removed.status != 200 || removed.headers["expires"] != "0" {
		t.Fatalf("removal: %+v", removed)
	}
	if again := publish(t, addr, map[string]string{"SIP-If-Match": current}, ""); again.status != 412 {
		t.Errorf("refresh after removal: %d, want 412", again.status)
	}
	// The good report was sent twice (initial, long expiry): still one call.
	if calls, streams := countCalls(t, s); calls != 1 || streams != 2 {
		t.Errorf("stored %d calls, %d streams; want 1, 2", calls, streams)
	}
}

func TestPublishAllowList(t *testing.T) {
	t.Parallel()
	s := openService(t, Options{SIPAllow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	addr, _ := startSIP(t, s)
	r := vq{callID: "x", user: "a@example.org", peer: "b@example.org", ip: "192.0.2.1", start: time.Now(), mos: 4}
	if res := publish(t, addr, nil, r.body()); res.status != 403 {
		t.Errorf("PUBLISH from outside the allow-list: %d, want 403", res.status)
	}
	if calls, _ := countCalls(t, s); calls != 0 {
		t.Error("a refused PUBLISH was stored")
	}
}

func TestListenSIP(t *testing.T) {
	t.Parallel()
	s := openService(t, Options{})
	if err := s.ListenSIP(context.Background(), "256.0.0.1:5060"); err == nil {
		t.Error("ListenSIP on a bad address returned nil")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenSIP(ctx, "127.0.0.1:0") }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenSIP after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ListenSIP did not return after its context ended")
	}
}

// sippPath finds sipp; `make test` installs it (Debian package sip-tester).
func sippPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		t.Fatal("sipp is not installed: run `make test`, which installs it (scripts/test-postgres.sh, Debian package sip-tester)")
	}
	return p
}

// runSipp runs a scenario against the collector and returns its output.
func runSipp(t *testing.T, scenario, transport, target string, calls int, inject string) error {
	t.Helper()
	dir := t.TempDir()
	args := []string{"-sf", filepath.Join("testdata", scenario), "-t", transport, "-i", "127.0.0.1",
		"-p", freePort(t, transport), "-m", fmt.Sprint(calls), "-r", "50", "-timeout", "30s", "-timeout_error",
		"-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	if inject != "" {
		f := filepath.Join(dir, "inject.csv")
		if err := os.WriteFile(f, []byte(inject), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-inf", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, sippPath(t), append(args, target)...)
	cmd.Dir = "."
	out, err := cmd.CombinedOutput()
	if err != nil {
		errs, _ := os.ReadFile(filepath.Join(dir, "errors.log"))
		return fmt.Errorf("sipp %s over %s: %v\n%s\n%s", scenario, transport, err, tail(out), errs)
	}
	return nil
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// freePort finds a loopback port for sipp's own socket.
func freePort(t *testing.T, transport string) string {
	t.Helper()
	if strings.HasPrefix(transport, "t") {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return fmt.Sprint(c.LocalAddr().(*net.UDPAddr).Port)
}

// TestSipp has a real SIP peer (sipp) PUBLISH RFC 6035 reports over UDP and
// TCP, then reads them back through the reports; malformed bodies are
// refused with 400 and leave nothing behind.
func TestSipp(t *testing.T) {
	t.Parallel()
	sippPath(t)
	s := openService(t, Options{})
	udpAddr, tcpAddr := startSIP(t, s)
	start := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	stop := start.Add(3 * time.Minute)
	ts := start.Format(time.RFC3339) + ";" + stop.Format(time.RFC3339)
	// user;ip;ssrc;start;stop;nlr;rtd;iaj;mos
	inject := "SEQUENTIAL\n" +
		"alice;192.0.2.10;1a2b3c01;" + ts + ";0.5;60;4;4.3\n" +
		"alice;192.0.2.11;1a2b3c02;" + ts + ";14.0;80;6;3.1\n" +
		"carol;203.0.113.9;1a2b3c03;" + ts + ";0.0;40;2;4.4\n"

	if err := runSipp(t, "publish.xml", "u1", udpAddr, 3, inject); err != nil {
		t.Fatal(err)
	}
	if err := runSipp(t, "publish.xml", "t1", tcpAddr, 3, inject); err != nil {
		t.Fatal(err)
	}
	if err := runSipp(t, "publish-malformed.xml", "u1", udpAddr, 2, ""); err != nil {
		t.Fatal(err)
	}
	// Six PUBLISHes with six Call-IDs: six calls, one stream each.
	if calls, streams := countCalls(t, s); calls != 6 || streams != 6 {
		t.Fatalf("stored %d calls, %d streams; want 6, 6", calls, streams)
	}
	h := s.Handler()
	_, _, body := get(t, h, "/reports/users/alice@example.org/calls")
	var got struct{ Calls []UserCall }
	if err := json.Unmarshal(body, &got); err != nil || len(got.Calls) != 4 {
		t.Fatalf("alice's calls: %v %s", err, body)
	}
	poor := 0
	for _, c := range got.Calls {
		st := c.Streams[0]
		if *st.Device != "sipp-alice" || *st.Codec != "PCMA" || *st.PeerUserID != "bob@example.org" {
			t.Errorf("stream from sipp: %+v", st)
		}
		if c.Poor != nil && *c.Poor {
			poor++
		}
	}
	if poor != 2 {
		t.Errorf("%d poor calls of alice, want 2 (14%% loss, MOS 3.1, over UDP and TCP)", poor)
	}
	_, _, daily := get(t, h, "/reports/daily")
	today := start.Format(time.DateOnly)
	if !strings.Contains(string(daily), `{"day":"`+today+`","calls":6,"poorCalls":2,`) {
		t.Errorf("daily report does not show the six calls of %s: %s", today, daily)
	}
	_, _, subnets := get(t, h, "/reports/subnets?format=csv")
	if !strings.Contains(string(subnets), "\n192.0.2.0/24,4,2,50,") {
		t.Errorf("subnets CSV:\n%s", subnets)
	}
}
