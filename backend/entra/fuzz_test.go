package entra_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/webscheduler/webscheduler/backend/entra"
	"github.com/webscheduler/webscheduler/backend/sandbox/emuentra"
	"github.com/webscheduler/webscheduler/backend/scheduler"
)

// FuzzValidate feeds the token validator arbitrary bearer strings, seeded
// with a good token and the classic forgeries (alg none, HS256 keyed with
// the public key, unknown and path-like kids, jku/x5u headers). It must
// never panic, refuse everything with a 401 code of its own, and accept
// nothing that names another user than the good token does.
func FuzzValidate(f *testing.F) {
	mux := http.NewServeMux()
	srv := httptest.NewTLSServer(mux)
	f.Cleanup(srv.Close)
	emu, err := emuentra.New(emuentra.Options{
		AuthorityURL: srv.URL + "/", TenantID: tid, TenantDomain: "contoso.example",
		Apps:  []emuentra.App{{ClientID: clientID, Secret: secretV, AppIDURI: "api://localhost/" + clientID}},
		Users: []emuentra.User{{OID: userOID, UPN: userUPN, Name: "Adele Vance"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	mux.Handle("/", emu.Handler())
	v := entra.NewValidator(entra.ValidatorConfig{
		AuthorityHost: srv.URL + "/", Tenant: tid, ClientID: clientID, HTTPClient: srv.Client(),
		MinRefresh: time.Hour, // forged kids must not turn into key fetches
	})
	good, _, err := emu.IssueSSOToken(userUPN, clientID)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := v.Validate(context.Background(), good); err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(good, claims); err != nil {
		f.Fatal(err)
	}
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	hs, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("not the key"))
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		good, none, hs, "", ".", "..", "a.b.c", "not-a-jwt", strings.Repeat("A", 4096),
		parts[0] + "." + parts[1] + ".", parts[0] + "." + parts[1] + "." + parts[1],
		seg(`{"alg":"RS256","kid":"../../etc/passwd"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"RS256","kid":"x","jku":"https://evil.example/keys"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"RS256","x5u":"https://evil.example/cert"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"ES256"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"PS256"}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"RS256","crit":["exp"]}`) + "." + parts[1] + "." + parts[2],
		seg(`{"alg":"RS256","kid":null}`) + "." + seg(`{"ver":"2.0"}`) + "." + parts[2],
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := v.Validate(context.Background(), raw)
		if err != nil {
			if code := scheduler.ErrorCode(err); !strings.HasPrefix(code, "token_") {
				t.Fatalf("refused with %q, not a token code: %v", code, err)
			}
			return
		}
		if p.OID != userOID || p.TID != tid {
			t.Fatalf("accepted %q as %s/%s", raw, p.TID, p.OID)
		}
	})
}
