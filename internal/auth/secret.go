package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// newSecret returns a random 32-byte value, URL-safe encoded, with prefix.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is what the database keeps instead of a secret.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}
