package scheduler_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/webscheduler/webscheduler/backend/scheduler"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseProxyAddressGolden(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("testdata", "proxyaddresses.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var raws []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		raws = append(raws, sc.Text())
	}
	got, err := json.MarshalIndent(scheduler.ParseProxyAddresses(raws), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "proxyaddresses.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
		t.Errorf("parsed proxy addresses differ from %s:\n%s", golden, got)
	}
}

func TestProxyAddressKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, typ, addr string
		primary        bool
	}{
		{"SMTP:a@b.example", "SMTP", "a@b.example", true},
		{"smtp:a@b.example", "SMTP", "a@b.example", false},
		{"SIP:a@b.example", "SIP", "a@b.example", true},
		{"sip:a@b.example", "SIP", "a@b.example", false},
		{"X500:/o=Org/cn=a", "X500", "/o=Org/cn=a", true},
		{"X400:c=US;a= ;p=P;", "X400", "c=US;a= ;p=P;", true},
		{"EUM:100;phone-context=dp.example", "EUM", "100;phone-context=dp.example", true},
		{"Fax:x", "FAX", "x", false},
		{"no-colon", "", "no-colon", false},
	}
	for _, tt := range tests {
		got := scheduler.ParseProxyAddress(tt.raw)
		if got.Type != tt.typ || got.Address != tt.addr || got.Primary != tt.primary || got.Raw != tt.raw {
			t.Errorf("ParseProxyAddress(%q) = %+v, want type %q addr %q primary %v", tt.raw, got, tt.typ, tt.addr, tt.primary)
		}
	}
	eum := scheduler.ParseProxyAddress("EUM:4711;phone-context=DP.contoso.example")
	if eum.Extension != "4711" || eum.PhoneContext != "DP.contoso.example" {
		t.Errorf("EUM fields = %q, %q", eum.Extension, eum.PhoneContext)
	}
	x400 := scheduler.ParseProxyAddress("X400:c=US;a= ;p=Contoso;s=Vance;")
	if len(x400.Fields) != 4 || x400.Fields[3] != (scheduler.AddressField{Key: "s", Value: "Vance"}) {
		t.Errorf("X400 fields = %+v", x400.Fields)
	}
}

func TestPrimaryAndSIP(t *testing.T) {
	t.Parallel()
	addrs := scheduler.ParseProxyAddresses([]string{"smtp:second@x.example", "sip:old@x.example", "SMTP:first@x.example", "SIP:main@x.example"})
	if got := scheduler.PrimarySMTP(addrs); got != "first@x.example" {
		t.Errorf("PrimarySMTP = %q", got)
	}
	if got := scheduler.SIPAddress(addrs); got != "main@x.example" {
		t.Errorf("SIPAddress = %q", got)
	}
	onlySecondary := scheduler.ParseProxyAddresses([]string{"sip:only@x.example"})
	if got := scheduler.SIPAddress(onlySecondary); got != "only@x.example" {
		t.Errorf("SIPAddress fallback = %q", got)
	}
	p := scheduler.NewProfile("id", "n", "", "", "mail@x.example", "upn@x.example", "", nil)
	if p.PrimarySMTP != "mail@x.example" {
		t.Errorf("NewProfile without proxies: primary = %q", p.PrimarySMTP)
	}
}

func FuzzParseProxyAddress(f *testing.F) {
	for _, s := range []string{"SMTP:a@b", "X400:c=US;a= ;", "EUM:1;phone-context=x", ":", "", "a:b:c", "\xff:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		pa := scheduler.ParseProxyAddress(raw)
		if pa.Raw != raw {
			t.Fatalf("Raw changed: %q -> %q", raw, pa.Raw)
		}
		if pa.Type != "" && pa.Type != strings.ToUpper(pa.Type) {
			t.Fatalf("Type not upper case: %q", pa.Type)
		}
		if pa.Type != "" && !strings.HasSuffix(raw, pa.Address) {
			t.Fatalf("Address %q is not the tail of %q", pa.Address, raw)
		}
	})
}
