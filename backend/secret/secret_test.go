package secret_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/webscheduler/webscheduler/backend/secret"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	box, err := secret.New(secret.RandomKey())
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.token")
	sealed := box.Seal(plain, "tok")
	if bytes.Contains(sealed, plain[:10]) {
		t.Fatal("sealed value contains plaintext")
	}
	if again := box.Seal(plain, "tok"); bytes.Equal(again, sealed) {
		t.Fatal("two seals of the same value are equal: nonce reused")
	}
	got, err := box.Open(sealed, "tok")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := box.Open(sealed, "sess"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("Open with another context: %v", err)
	}
	tampered := append([]byte(nil), sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := box.Open(tampered, "tok"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("Open tampered: %v", err)
	}
	if _, err := box.Open(sealed[:5], "tok"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("Open truncated: %v", err)
	}
	other, _ := secret.New(secret.RandomKey())
	if _, err := other.Open(sealed, "tok"); !errors.Is(err, secret.ErrOpen) {
		t.Fatalf("Open with another key: %v", err)
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	key := secret.RandomKey()
	a, _ := secret.New(key)
	b, _ := secret.New(key)
	if a.Key("tid", "oid") != b.Key("tid", "oid") {
		t.Fatal("Key not stable for the same key")
	}
	if a.Key("tid", "oid") == a.Key("tido", "id") {
		t.Fatal("Key parts are not separated")
	}
	c, _ := secret.New(secret.RandomKey())
	if a.Key("x") == c.Key("x") {
		t.Fatal("Key does not depend on the secret")
	}
}

func TestParseKey(t *testing.T) {
	t.Parallel()
	raw := bytes.Repeat([]byte{7}, 32)
	for _, s := range []string{base64.StdEncoding.EncodeToString(raw), base64.RawURLEncoding.EncodeToString(raw)} {
		if k, err := secret.ParseKey(s); err != nil || !bytes.Equal(k, raw) {
			t.Errorf("ParseKey(%q) = %v", s, err)
		}
	}
	for _, bad := range []string{"", "!!!", base64.StdEncoding.EncodeToString(raw[:16])} {
		if _, err := secret.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if _, err := secret.New(raw[:31]); err == nil {
		t.Error("New accepted a short key")
	}
}
