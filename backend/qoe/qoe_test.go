package qoe

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestDisabled documents the contract the service wiring relies on: with
// no database URL, Open returns ErrDisabled and a nil *Service, and a nil
// *Service receives and stores nothing and answers 404 everywhere.
func TestDisabled(t *testing.T) {
	t.Parallel()
	s, err := Open(context.Background(), "", Options{IngestKey: "0123456789abcdef0123"})
	if !errors.Is(err, ErrDisabled) || s != nil {
		t.Fatalf("Open(\"\") = %v, %v; want nil, ErrDisabled", s, err)
	}
	h := s.Handler()
	for _, c := range []struct{ method, path string }{
		{http.MethodGet, "/reports/daily"},
		{http.MethodGet, "/reports/users/alice@example.org/calls?format=csv"},
		{http.MethodPost, IngestPath},
		{http.MethodPost, TeamsPath + "?validationToken=abc"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, strings.NewReader("VQSessionReport")))
		var body struct {
			Error struct{ Code, Message string }
		}
		if rec.Code != http.StatusNotFound || json.Unmarshal(rec.Body.Bytes(), &body) != nil || body.Error.Code != "not_found" {
			t.Errorf("%s %s: %d %s; want 404 not_found", c.method, c.path, rec.Code, rec.Body)
		}
	}
	if err := s.ListenSIP(context.Background(), "127.0.0.1:0"); !errors.Is(err, ErrDisabled) {
		t.Errorf("ListenSIP on a nil Service = %v, want ErrDisabled", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping on a nil Service = %v", err)
	}
	s.Close() // must not panic
	for path, want := range map[string]bool{IngestPath: true, TeamsPath: true, "/reports/daily": false, "/ingest/x": false} {
		if SelfAuthenticated(path) != want {
			t.Errorf("SelfAuthenticated(%q) = %v", path, !want)
		}
	}
}

func TestOpenRefusesWeakKey(t *testing.T) {
	t.Parallel()
	if _, err := Open(context.Background(), "postgres://unused", Options{IngestKey: "short"}); err == nil {
		t.Fatal("a 5-character ingestion key was accepted")
	}
}

// TestMigrations applies the migrations twice (a restart) and checks that
// every documented view answers.
func TestMigrations(t *testing.T) {
	t.Parallel()
	url := testDatabase(t)
	for range 2 {
		s, err := Open(context.Background(), url, Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"stream_quality", "call_quality", "daily_quality", "subnet_quality", "device_quality"} {
			if _, err := s.db.Exec(context.Background(), "SELECT * FROM qoe."+v+" LIMIT 1"); err != nil {
				t.Errorf("view qoe.%s: %v", v, err)
			}
		}
		s.Close()
	}
}

// vq is a test report: one call seen by one endpoint.
type vq struct {
	callID, user, peer, ip, device string
	start                          time.Time
	nlr, iaj, rtd                  float64
	mos                            float64
	remote                         bool
}

func (v vq) body() string {
	var b strings.Builder
	stop := v.start.Add(2 * time.Minute)
	fmt.Fprintf(&b, "VQSessionReport: CallTerm\r\nCallID: %s\r\nLocalID: <sip:%s>\r\nRemoteID: <sip:%s>\r\n", v.callID, v.user, v.peer)
	fmt.Fprintf(&b, "LocalAddr: IP=%s PORT=5004 SSRC=0x11223344\r\nRemoteAddr: IP=198.51.100.7 PORT=6000 SSRC=0x55667788\r\n", v.ip)
	if v.device != "" {
		fmt.Fprintf(&b, "LocalGroup: %s\r\n", v.device)
	}
	metrics := fmt.Sprintf("Timestamps: START=%s STOP=%s\r\nSessionDesc: PT=0 SR=8000\r\nPacketLoss: NLR=%.1f JDR=0.0\r\nDelay: RTD=%.0f IAJ=%.0f\r\nQualityEst: MOSLQ=%.1f MOSCQ=%.1f\r\n",
		v.start.Format(time.RFC3339), stop.Format(time.RFC3339), v.nlr, v.rtd, v.iaj, v.mos, v.mos)
	b.WriteString("LocalMetrics:\r\n" + metrics)
	if v.remote {
		b.WriteString("RemoteMetrics:\r\n" + metrics)
	}
	return b.String()
}

const testKey = "test-ingestion-key-0123456789"

func post(t testing.TB, h http.Handler, key, contentType, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, IngestPath, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func countCalls(t testing.TB, s *Service) (calls, streams int) {
	t.Helper()
	err := s.db.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM qoe.calls), (SELECT count(*) FROM qoe.streams)`).Scan(&calls, &streams)
	if err != nil {
		t.Fatal(err)
	}
	return calls, streams
}

func TestHTTPIngest(t *testing.T) {
	t.Parallel()
	s := openService(t, Options{IngestKey: testKey})
	h := s.Handler()
	good := vq{callID: "http-1@example.org", user: "alice@example.org", peer: "bob@example.org", ip: "192.0.2.10",
		start: time.Now().Add(-time.Hour), nlr: 1, iaj: 5, rtd: 80, mos: 4.2, remote: true}.body()
	for _, c := range []struct {
		name, key, ct, body string
		status              int
		want                string
	}{
		{"no key", "", "application/vq-rtcpxr", good, 401, "unauthenticated"},
		{"wrong key", testKey + "x", "application/vq-rtcpxr", good, 401, "unauthenticated"},
		{"wrong content type", testKey, "text/plain", good, 400, "application/vq-rtcpxr"},
		{"malformed", testKey, "application/vq-rtcpxr", strings.Replace(good, "NLR=1.0", "NLR=lots", 1), 400, "NLR=lots is not a number"},
		{"truncated", testKey, "application/vq-rtcpxr", good[:200], 400, "invalid_request"},
		{"too large", testKey, "application/vq-rtcpxr", strings.Repeat("x", 70<<10), 413, "request_too_large"},
	} {
		status, body := post(t, h, c.key, c.ct, c.body)
		if status != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want %d with %q", c.name, status, body, c.status, c.want)
		}
	}
	if calls, streams := countCalls(t, s); calls != 0 || streams != 0 {
		t.Fatalf("refused reports stored %d calls, %d streams", calls, streams)
	}
	if status, body := post(t, h, testKey, "application/vq-rtcpxr; charset=utf-8", good); status != 200 || !strings.Contains(body, `"streams":2`) {
		t.Fatalf("good report: %d %s", status, body)
	}
	// The same report again (a retry) must not add rows.
	post(t, h, testKey, "application/vq-rtcpxr", good)
	if calls, streams := countCalls(t, s); calls != 1 || streams != 2 {
		t.Errorf("stored %d calls, %d streams; want 1, 2", calls, streams)
	}

	off := openService(t, Options{})
	if status, _ := post(t, off.Handler(), testKey, "application/vq-rtcpxr", good); status != 404 {
		t.Errorf("ingestion without a configured key answered %d, want 404", status)
	}
}

// seed stores a small, known data set through the HTTP ingestion route.
func seed(t testing.TB, s *Service, day time.Time) {
	t.Helper()
	h := s.Handler()
	reports := []vq{
		// day 1: three calls, one poor (loss) from subnet 192.0.2.0/24
		{callID: "c1", user: "alice@example.org", peer: "bob@example.org", ip: "192.0.2.10", device: "PhoneA", start: day.Add(9 * time.Hour), nlr: 12, iaj: 5, rtd: 80, mos: 3.0},
		{callID: "c2", user: "alice@example.org", peer: "carol@example.org", ip: "192.0.2.11", device: "PhoneA", start: day.Add(10 * time.Hour), nlr: 0.5, iaj: 4, rtd: 60, mos: 4.3},
		{callID: "c3", user: "dave@example.org", peer: "bob@example.org", ip: "203.0.113.5", device: "PhoneB", start: day.Add(11 * time.Hour), nlr: 0, iaj: 2, rtd: 30, mos: 4.4},
		// day 2: two calls, both poor (jitter, round trip) from 198.18.0.0/24
		{callID: "c4", user: "erin@example.org", peer: "alice@example.org", ip: "198.18.0.20", device: "SoftC", start: day.Add(33 * time.Hour), nlr: 1, iaj: 45, rtd: 90, mos: 4.0},
		{callID: "c5", user: "erin@example.org", peer: "bob@example.org", ip: "198.18.0.21", device: "SoftC", start: day.Add(34 * time.Hour), nlr: 1, iaj: 10, rtd: 700, mos: 3.9},
	}
	for _, r := range reports {
		if status, body := post(t, h, testKey, "application/vq-rtcpxr", r.body()); status != 200 {
			t.Fatalf("seed %s: %d %s", r.callID, status, body)
		}
	}
}

func TestReports(t *testing.T) {
	t.Parallel()
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	s := openService(t, Options{IngestKey: testKey, Now: func() time.Time { return day.Add(72 * time.Hour) }})
	seed(t, s, day)
	h := s.Handler()
	period := "from=2024-05-06&to=2024-05-08"

	t.Run("daily", func(t *testing.T) {
		t.Parallel()
		status, _, body := get(t, h, "/reports/daily?"+period)
		var got struct{ Days []DayRow }
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("%d %s", status, body)
		}
		want := []string{"2024-05-06 3 1 33.3", "2024-05-07 2 2 100", "2024-05-08 0 0 "}
		var lines []string
		for _, d := range got.Days {
			lines = append(lines, fmt.Sprintf("%s %d %d %s", d.Day, d.Calls, d.PoorCalls, fmtFloat(d.PoorPercent)))
		}
		if strings.Join(lines, "|") != strings.Join(want, "|") {
			t.Errorf("days %v, want %v", lines, want)
		}
		_, ct, csv := get(t, h, "/reports/daily?format=csv&"+period)
		if ct != "text/csv; charset=utf-8" || !strings.HasPrefix(string(csv), "day,calls,poor_calls,classified_calls,poor_percent\n2024-05-06,3,1,3,33.3\n") {
			t.Errorf("CSV %s:\n%s", ct, csv)
		}
		checkSVG(t, h, "/reports/daily?format=svg&"+period, "2024-05-07: 2 calls, 2 poor")
	})
	t.Run("daily in a time zone", func(t *testing.T) {
		t.Parallel()
		// UTC+14: 10:00 UTC on the 6th is already the 7th there.
		_, _, body := get(t, h, "/reports/daily?tz=Pacific/Kiritimati&"+period)
		var got struct{ Days []DayRow }
		_ = json.Unmarshal(body, &got)
		if len(got.Days) < 3 || got.Days[0].Day != "2024-05-06" || got.Days[0].Calls != 1 || got.Days[1].Calls != 3 || got.Days[2].Calls != 1 {
			t.Errorf("Kiritimati days: %s", body)
		}
	})
	t.Run("subnets", func(t *testing.T) {
		t.Parallel()
		_, _, body := get(t, h, "/reports/subnets?"+period)
		var got struct{ Subnets []GroupRow }
		if err := json.Unmarshal(body, &got); err != nil || len(got.Subnets) != 3 {
			t.Fatalf("%v %s", err, body)
		}
		first := got.Subnets[0]
		if first.Name != "198.18.0.0/24" || first.PoorStreams != 2 || first.Streams != 2 || got.Subnets[1].Name != "192.0.2.0/24" {
			t.Errorf("worst subnets: %s", body)
		}
		_, _, csv := get(t, h, "/reports/subnets?format=csv&"+period)
		if !strings.HasPrefix(string(csv), "subnet,streams,poor_streams,poor_percent,") || !strings.Contains(string(csv), "\n198.18.0.0/24,2,2,100,") {
			t.Errorf("CSV:\n%s", csv)
		}
		checkSVG(t, h, "/reports/subnets?format=svg&"+period, "198.18.0.0/24")
		_, _, min := get(t, h, "/reports/subnets?min=3&"+period)
		if !strings.Contains(string(min), `"subnets":[]`) {
			t.Errorf("min=3 kept small subnets: %s", min)
		}
	})
	t.Run("devices", func(t *testing.T) {
		t.Parallel()
		_, _, body := get(t, h, "/reports/devices?limit=2&"+period)
		var got struct{ Devices []GroupRow }
		if err := json.Unmarshal(body, &got); err != nil || len(got.Devices) != 2 || got.Devices[0].Name != "SoftC" || got.Devices[1].Name != "PhoneA" {
			t.Fatalf("%v %s", err, body)
		}
		checkSVG(t, h, "/reports/devices?format=svg&"+period, "SoftC")
	})
	t.Run("user calls", func(t *testing.T) {
		t.Parallel()
		_, _, body := get(t, h, "/reports/users/Alice@Example.org/calls?"+period)
		var got struct{ Calls []UserCall }
		if err := json.Unmarshal(body, &got); err != nil || len(got.Calls) != 2 {
			t.Fatalf("%v %s", err, body)
		}
		c1 := got.Calls[1] // newest first
		if c1.ExternalID != "c1" || c1.Poor == nil || !*c1.Poor || len(c1.Streams) != 1 {
			t.Fatalf("call c1: %+v", c1)
		}
		st := c1.Streams[0]
		if *st.IP != "192.0.2.10" || *st.PeerUserID != "bob@example.org" || *st.Codec != "PCMU" || *st.PacketLoss != 12 ||
			strings.Join(st.PoorReasons, ",") != "packet_loss,mos" {
			t.Errorf("stream detail: %s", body)
		}
		_, _, csv := get(t, h, "/reports/users/alice@example.org/calls?format=csv&"+period)
		if n := strings.Count(string(csv), "\n"); n != 3 {
			t.Errorf("CSV has %d lines, want header + 2 streams:\n%s", n, csv)
		}
		checkSVG(t, h, "/reports/users/alice@example.org/calls?format=svg&"+period, "poor: packet_loss, mos")
	})
	t.Run("bad parameters", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"from=yesterday", "from=2024-05-08&to=2024-05-01", "from=2023-01-01&to=2024-05-01",
			"limit=0", "limit=x", "format=pdf", "tz=Mars/Olympus"} {
			status, _, body := get(t, h, "/reports/daily?"+q)
			if status != 400 || !strings.Contains(string(body), `"code":"invalid_request"`) {
				t.Errorf("%s: %d %s", q, status, body)
			}
		}
		if status, _, _ := get(t, h, "/reports/nope"); status != 404 {
			t.Errorf("unknown report: %d", status)
		}
	})
}

// checkSVG fetches a chart and checks that it is well-formed SVG that
// loads nothing and runs nothing, and that it shows want.
func checkSVG(t *testing.T, h http.Handler, path, want string) {
	t.Helper()
	status, ct, body := get(t, h, path)
	if status != 200 || ct != "image/svg+xml" {
		t.Fatalf("%s: %d %s", path, status, ct)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	var root string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: not well-formed XML: %v\n%s", path, err, body)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			if se.Name.Local == "script" || se.Name.Local == "image" || se.Name.Local == "foreignObject" {
				t.Errorf("%s: has <%s>", path, se.Name.Local)
			}
			for _, a := range se.Attr {
				if strings.HasPrefix(a.Name.Local, "on") || a.Name.Local == "href" {
					t.Errorf("%s: attribute %s", path, a.Name.Local)
				}
			}
		}
	}
	if root != "svg" {
		t.Errorf("%s: root element %q", path, root)
	}
	if !strings.Contains(string(body), want) {
		t.Errorf("%s: chart does not show %q", path, want)
	}
}

// TestReportEscaping sends hostile device and user names and checks they
// reach SVG escaped and CSV defused.
func TestReportEscaping(t *testing.T) {
	t.Parallel()
	day := time.Date(2024, 5, 6, 0, 0, 0, 0, time.UTC)
	s := openService(t, Options{IngestKey: testKey, Now: func() time.Time { return day.Add(24 * time.Hour) }})
	r := vq{callID: "x1", user: "mallory@example.org", peer: "bob@example.org", ip: "192.0.2.1",
		device: `=HYPERLINK("http://evil")<script>alert(1)</script>`, start: day.Add(time.Hour), nlr: 20, mos: 2}
	if status, body := post(t, s.Handler(), testKey, "application/vq-rtcpxr", r.body()); status != 200 {
		t.Fatal(status, body)
	}
	checkSVG(t, s.Handler(), "/reports/devices?format=svg&from=2024-05-06", "&lt;script&gt;")
	_, _, csv := get(t, s.Handler(), "/reports/devices?format=csv&from=2024-05-06")
	if !strings.Contains(string(csv), `"'=HYPERLINK(""http://evil"")`) {
		t.Errorf("CSV formula not defused:\n%s", csv)
	}
}

func TestTruncateIPs(t *testing.T) {
	t.Parallel()
	s := openService(t, Options{IngestKey: testKey, TruncateIPs: true})
	r := vq{callID: "t1", user: "alice@example.org", peer: "bob@example.org", ip: "2001:db8:1:2:3:4:5:6", start: time.Now().Add(-time.Hour), nlr: 1, mos: 4, remote: true}
	if status, body := post(t, s.Handler(), testKey, "application/vq-rtcpxr", r.body()); status != 200 {
		t.Fatal(status, body)
	}
	rows, err := s.db.Query(context.Background(), `SELECT host(ip), host(peer_ip), subnet::text, direction FROM qoe.streams ORDER BY direction`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var ip, peer, subnet, dir string
		if err := rows.Scan(&ip, &peer, &subnet, &dir); err != nil {
			t.Fatal(err)
		}
		got = append(got, dir+" "+ip+" "+peer+" "+subnet)
	}
	want := "inbound 2001:db8:1:2:: 198.51.100.0 2001:db8:1:2::/64|outbound 198.51.100.0 2001:db8:1:2:: 198.51.100.0/24"
	if strings.Join(got, "|") != want {
		t.Errorf("stored %q, want %q", strings.Join(got, "|"), want)
	}
	var metrics string
	_ = s.db.QueryRow(context.Background(), `SELECT string_agg(metrics::text || stream_key, '') FROM qoe.streams`).Scan(&metrics)
	if strings.Contains(metrics, "2001:db8:1:2:3") || strings.Contains(metrics, "198.51.100.7") {
		t.Errorf("a full address survives in metrics or stream_key: %s", metrics)
	}
}

func TestPurge(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	s := openService(t, Options{IngestKey: testKey, Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	for i, age := range []time.Duration{40 * 24 * time.Hour, 31 * 24 * time.Hour, 29 * 24 * time.Hour, time.Hour} {
		r := vq{callID: fmt.Sprintf("p%d", i), user: "a@example.org", peer: "b@example.org", ip: "192.0.2.1", start: now.Add(-age), mos: 4}
		if status, body := post(t, s.Handler(), testKey, "application/vq-rtcpxr", r.body()); status != 200 {
			t.Fatal(status, body)
		}
	}
	// The purge job also runs by itself at start, so only the result counts.
	if _, err := s.Purge(context.Background()); err != nil {
		t.Fatal(err)
	}
	if calls, streams := countCalls(t, s); calls != 2 || streams != 2 {
		t.Errorf("left %d calls, %d streams; want 2, 2", calls, streams)
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	i := func(v int) *int { return &v }
	for _, c := range []struct {
		name string
		m    measures
		want string // "" not classified, "good", or the reasons
	}{
		{"nothing measured", measures{}, ""},
		{"all good", measures{packetLoss: f(1), jitter: f(10), roundTrip: f(100), mosLQ: f(4.1)}, "good"},
		{"at the thresholds is good", measures{packetLoss: f(10), jitter: f(30), roundTrip: f(500), mosCQ: f(3.6), rLQ: i(70), degradation: f(1), concealed: f(0.07)}, "good"},
		{"loss", measures{packetLoss: f(10.1)}, "packet_loss"},
		{"jitter", measures{jitter: f(31)}, "jitter"},
		{"round trip", measures{roundTrip: f(501)}, "round_trip"},
		{"MOS counted once", measures{mosLQ: f(3.5), mosCQ: f(3.0)}, "mos"},
		{"R factor", measures{rCQ: i(65)}, "r_factor"},
		{"Teams degradation and concealment", measures{degradation: f(1.2), concealed: f(0.1)}, "degradation,concealed_samples"},
	} {
		poor, reasons := DefaultThresholds.classify(c.m)
		got := ""
		switch {
		case poor == nil:
		case !*poor:
			got = "good"
		default:
			got = strings.Join(reasons, ",")
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSIPUser(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, user, name string }{
		{`"Alice" <sip:alice@Atlanta.Example.org>;tag=1`, "alice@atlanta.example.org", "Alice"},
		{`Bill <sips:bill@biloxi.example.org;transport=tls>`, "bill@biloxi.example.org", "Bill"},
		{`sip:carol@example.org;tag=9`, "carol@example.org", ""},
		{`<tel:+15551234>`, "+15551234", ""},
		{``, "", ""},
	} {
		if u, n := sipUser(c.in); u != c.user || n != c.name {
			t.Errorf("sipUser(%q) = %q, %q; want %q, %q", c.in, u, n, c.user, c.name)
		}
	}
}

func TestSubnetOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.77":           "192.0.2.0/24",
		"::ffff:192.0.2.77":    "192.0.2.0/24",
		"2001:db8:a:b:c:d:e:f": "2001:db8:a:b::/64",
	} {
		if got := subnetOf(netip.MustParseAddr(in).Unmap()); got.String() != want {
			t.Errorf("subnetOf(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestParseRetention(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1d": 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := ParseRetention(in); err != nil || got != want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-3d", "x", "10m", "1.5d"} {
		if _, err := ParseRetention(in); err == nil {
			t.Errorf("ParseRetention(%q) accepted", in)
		}
	}
}
