// Package secret seals small values (tokens, passcodes, profiles) with
// AES-256-GCM before they reach a store, and derives opaque store keys, so
// that nothing stored names a person or holds a usable credential.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeySize is the length of the encryption key in bytes.
const KeySize = 32

// ErrOpen is returned when a sealed value cannot be opened: wrong key,
// tampered or truncated.
var ErrOpen = errors.New("secret: cannot open sealed value")

// Box seals and opens values with one key.
type Box struct {
	aead   cipher.AEAD
	keyMAC []byte // separate subkey for Key, so IDs do not leak the AEAD key's use
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(derive(key, "seal"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead, keyMAC: derive(key, "store-key")}, nil
}

// ParseKey decodes a base64 (standard or URL, padded or not) 32-byte key.
func ParseKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("must decode to %d bytes, got %d", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("is not valid base64")
}

// RandomKey returns a fresh key (sandbox mode uses one per process).
func RandomKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return k
}

// Seal encrypts plaintext; context binds the value to its purpose and key so
// a sealed value cannot be moved to another record and still open.
func (b *Box) Seal(plaintext []byte, context string) []byte {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, []byte(context))
}

// Open decrypts a value sealed with the same context.
func (b *Box) Open(sealed []byte, context string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// Key returns an opaque, stable store key for parts (e.g. tenant and user
// IDs): the same parts give the same key, and the key reveals none of them.
func (b *Box) Key(parts ...string) string {
	m := hmac.New(sha256.New, b.keyMAC)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("webscheduler/" + purpose))
	return m.Sum(nil)
}
