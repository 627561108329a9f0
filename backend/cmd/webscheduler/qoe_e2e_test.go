package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// qoeDatabase creates a database of its own for one test and drops it.
func qoeDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("WEBSCHEDULER_TEST_POSTGRES_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL does not answer (%v): run `make test`, which starts one", err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "wsqoe_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err == nil {
			_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

const vqReport = "VQSessionReport: CallTerm\r\n" +
	"CallID: 6dg37f1890463\r\n" +
	"LocalID: <sip:adele.vance@contoso.example>\r\n" +
	"RemoteID: <sip:alex.wilber@contoso.example>\r\n" +
	"LocalAddr: IP=192.0.2.10 PORT=5004 SSRC=11223344\r\n" +
	"RemoteAddr: IP=198.51.100.7 PORT=6000 SSRC=55667788\r\n" +
	"LocalMetrics:\r\n" +
	"Timestamps: START=2026-11-24T10:00:00Z STOP=2026-11-24T10:30:00Z\r\n" +
	"SessionDesc: PT=8 PD=PCMA SR=8000 FD=20 FPP=1 PPS=50 PLC=3 SSUP=off\r\n" +
	"JitterBuffer: JBA=3 JBR=2 JBN=40 JBM=80 JBX=120\r\n" +
	"PacketLoss: NLR=12.0 JDR=0.0\r\n" +
	"BurstGapLoss: BLD=0 BD=0 GLD=0.0 GD=0 GMIN=16\r\n" +
	"Delay: RTD=450 ESD=40 SOWD=50 IAJ=40 MAJ=3\r\n" +
	"Signal: SL=-20 NL=-60 RERL=50\r\n" +
	"QualityEst: RLQ=85 RCQ=80 MOSLQ=2.1 MOSCQ=2.1 QoEEstAlg=P.564\r\n" +
	"DialogID: 6dg37f1890463;to-tag=1;from-tag=2\r\n"

func (h *harness) ingest(key, body string) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.base+"/api/v1/admin/qoe/ingest", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/vq-rtcpxr")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestQoEIsOffByDefault(t *testing.T) {
	t.Parallel()
	h := startSandbox(t, nil, "")
	if resp := h.ingest("0123456789abcdef0123", vqReport); resp.StatusCode != 404 {
		t.Fatalf("ingest with QoE off: %d", resp.StatusCode)
	}
	var e apiError
	if resp := h.do("GET", "/api/v1/admin/qoe/reports/daily", h.token(adele), nil, &e); resp.StatusCode != 404 || e.Error.Code != "not_found" {
		t.Fatalf("report with QoE off: %d %+v", resp.StatusCode, e)
	}
}

func TestQoEIngestAndAdminReports(t *testing.T) {
	t.Parallel()
	const key = "ingest-key-0123456789"
	h := startSandbox(t, map[string]string{
		"WEBSCHEDULER_QOE_DATABASE_URL": qoeDatabase(t),
		"WEBSCHEDULER_QOE_INGEST_KEY":   key,
	}, "")
	if resp := h.ingest("wrong-key-0123456789", vqReport); resp.StatusCode != 401 {
		t.Fatalf("wrong ingestion key: %d", resp.StatusCode)
	}
	if resp := h.ingest(key, "VQSessionReport: CallTerm\r\nnonsense\r\n"); resp.StatusCode != 400 {
		t.Fatalf("malformed report: %d", resp.StatusCode)
	}
	if resp := h.ingest(key, vqReport); resp.StatusCode/100 != 2 {
		t.Fatalf("ingest: %d", resp.StatusCode)
	}
	q := "/api/v1/admin/qoe/reports/daily?from=2026-11-01&to=2026-12-01"
	var e apiError
	if resp := h.do("GET", q, h.token("alex.wilber@contoso.example"), nil, &e); resp.StatusCode != 403 {
		t.Fatalf("report for a non-admin: %d %+v", resp.StatusCode, e)
	}
	req, _ := http.NewRequest("GET", h.base+q+"&format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+h.token(adele))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(csv), "2026-11-24") {
		t.Fatalf("daily report CSV: %d\n%s", resp.StatusCode, csv)
	}
	svg, err := http.NewRequest("GET", h.base+q+"&format=svg", nil)
	if err != nil {
		t.Fatal(err)
	}
	svg.Header.Set("Authorization", "Bearer "+h.token(adele))
	resp, err = http.DefaultClient.Do(svg)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/svg+xml") {
		t.Fatalf("daily report SVG: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
