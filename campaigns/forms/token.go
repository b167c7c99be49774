package forms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// Keys are the server secrets tokens are signed with: Current signs and
// verifies, Previous (optional, during a rotation) only verifies.
type Keys struct {
	Current, Previous []byte
}

// The kinds of token: a render token (in the hosted form, proves when it
// was rendered) and a confirmation token (in the confirmation mail).
const (
	kindRender  = "r"
	kindConfirm = "c"
)

// derive makes a key for forms alone from a server secret, so a forms
// token can never pass as another part's token.
func derive(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("peykar signup forms v1"))
	return m.Sum(nil)
}

func mac(key []byte, payload string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// sign returns "kind.id.unix.mac".
func (k Keys) sign(kind string, id int64, at time.Time) string {
	payload := kind + "." + strconv.FormatInt(id, 10) + "." + strconv.FormatInt(at.Unix(), 10)
	return payload + "." + mac(derive(k.Current), payload)
}

// verify checks a token of kind and returns its id and time; ok is false
// for anything malformed or forged.
func (k Keys) verify(kind, token string) (id int64, at time.Time, ok bool) {
	if len(token) > 100 {
		return 0, time.Time{}, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != kind {
		return 0, time.Time{}, false
	}
	payload := strings.Join(parts[:3], ".")
	good := false
	for _, key := range [][]byte{k.Current, k.Previous} {
		if len(key) > 0 && hmac.Equal([]byte(parts[3]), []byte(mac(derive(key), payload))) {
			good = true
		}
	}
	if !good {
		return 0, time.Time{}, false
	}
	id, err1 := strconv.ParseInt(parts[1], 10, 64)
	unix, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return 0, time.Time{}, false
	}
	return id, time.Unix(unix, 0), true
}
