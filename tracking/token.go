package tracking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Kind says what a token is for. It is signed with the rest of the token, so
// an open token cannot be replayed as an unsubscribe or a click.
type Kind byte

// The token kinds.
const (
	KindOpen        Kind = 'o'
	KindClick       Kind = 'c' // a static link: the URL comes from campaign_links
	KindClickURL    Kind = 'p' // a personalised link: the URL is in the token
	KindUnsubscribe Kind = 'u'
	KindHoneypot    Kind = 'h'
	KindBounce      Kind = 'b'
	// KindPreferences is the preference centre's link (/t/p/{token}).
	KindPreferences Kind = 'r'
	// KindPreferencesForm is the preference centre's anti-CSRF form token:
	// bound to one delivery and valid until its expiry.
	KindPreferencesForm Kind = 'f'
)

// macLen is the truncated HMAC-SHA256 length: 96 bits.
const macLen = 12

// maxTokenLen bounds what Verify will even look at.
const maxTokenLen = 4096

// ErrBadToken is returned for a token that is malformed, truncated, forged or
// signed with a key no longer accepted. Callers answer it with 404.
var ErrBadToken = errors.New("tracking: invalid token")

// Keys are the signing secrets: tokens are signed with Current and verified
// against Current, then Previous (nil when there was no rotation).
type Keys struct {
	Current, Previous []byte
}

// Signer creates and verifies tracking tokens: compact, URL-safe,
// HMAC-SHA256-signed (truncated to 96 bits).
type Signer struct {
	current, previous *macKey
}

// macKey is a derived key with a pool of keyed HMAC states: keying HMAC
// costs two hash blocks and some allocations, a reset one almost nothing.
type macKey struct {
	pool sync.Pool // of *macState
}

// macState is a keyed HMAC with the buffers a verification needs, pooled
// together so verifying a token of ordinary length allocates nothing.
type macState struct {
	h   hash.Hash
	sum [sha256.Size]byte
	raw [64]byte // a decoded token: every kind but a personalised click fits
}

func newMacKey(key []byte) *macKey {
	return &macKey{pool: sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, key)} }}}
}

func (k *macKey) get() *macState   { return k.pool.Get().(*macState) }
func (k *macKey) put(st *macState) { k.pool.Put(st) }

// sum appends msg's truncated MAC to dst.
func (k *macKey) sum(dst, msg []byte) []byte {
	st := k.get()
	dst = append(dst, st.mac(msg)...)
	k.put(st)
	return dst
}

// equal reports whether sig is msg's MAC, in constant time.
func (k *macKey) equal(sig, msg []byte) bool {
	st := k.get()
	ok := st.equal(sig, msg)
	k.put(st)
	return ok
}

// mac is msg's truncated MAC, in st's buffer.
func (st *macState) mac(msg []byte) []byte {
	st.h.Reset()
	st.h.Write(msg)
	return st.h.Sum(st.sum[:0])[:macLen]
}

func (st *macState) equal(sig, msg []byte) bool { return hmac.Equal(sig, st.mac(msg)) }

// NewSigner returns a Signer over k. The keys are not used directly: a
// tracking-specific key is derived from each, so tokens never share a MAC
// key with other uses of the same secret.
func NewSigner(k Keys) *Signer {
	s := &Signer{current: newMacKey(derive(k.Current))}
	if len(k.Previous) > 0 {
		s.previous = newMacKey(derive(k.Previous))
	}
	return s
}

func derive(secret []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("peykar tracking token v1"))
	return m.Sum(nil)
}

// Token is the content of a verified token.
type Token struct {
	Kind       Kind
	DeliveryID int64
	LinkIdx    int    // clicks only
	URL        string // KindClickURL only: the personalised URL, signed
	Expires    int64  // KindPreferencesForm only: Unix seconds
}

// Sign encodes and signs t as raw bytes.
func (s *Signer) sign(t Token) []byte {
	b := make([]byte, 0, 24+len(t.URL)+macLen)
	b = append(b, byte(t.Kind))
	b = binary.AppendUvarint(b, uint64(t.DeliveryID))
	if t.Kind == KindClick || t.Kind == KindClickURL {
		b = binary.AppendUvarint(b, uint64(t.LinkIdx))
	}
	if t.Kind == KindClickURL {
		b = append(b, t.URL...)
	}
	if t.Kind == KindPreferencesForm {
		b = binary.AppendUvarint(b, uint64(t.Expires))
	}
	return s.current.sum(b, b)
}

// Encode returns t signed, as a URL-safe base64 string.
func (s *Signer) Encode(t Token) string {
	return base64.RawURLEncoding.EncodeToString(s.sign(t))
}

// Verify decodes and checks a token made by Encode. Any defect returns
// ErrBadToken and a zero Token.
func (s *Signer) Verify(token string) (Token, error) {
	if len(token) > maxTokenLen || !base64URL(token) {
		return Token{}, ErrBadToken
	}
	st := s.current.get()
	defer s.current.put(st)
	raw, err := base64.RawURLEncoding.AppendDecode(st.raw[:0], []byte(token))
	if err != nil {
		return Token{}, ErrBadToken
	}
	return s.verifyRaw(raw, st)
}

// base64URL reports whether every byte of s is in the URL-safe base64
// alphabet. The decoder silently skips CR and LF, which would let many
// spellings of one token verify; a token has exactly one.
func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// verifyRaw checks a decoded token; st, when not nil, is a state of the
// current key to check it with.
func (s *Signer) verifyRaw(raw []byte, st *macState) (Token, error) {
	if len(raw) < 2+macLen {
		return Token{}, ErrBadToken
	}
	body, sig := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if st == nil {
		st = s.current.get()
		defer s.current.put(st)
	}
	if !st.equal(sig, body) && (s.previous == nil || !s.previous.equal(sig, body)) {
		return Token{}, ErrBadToken
	}
	t, ok := parseBody(body)
	if !ok {
		return Token{}, ErrBadToken
	}
	return t, nil
}

// parseBody reads a signed body; a valid MAC over a malformed body can only
// come from a bug, but is refused all the same.
func parseBody(b []byte) (Token, bool) {
	t := Token{Kind: Kind(b[0])}
	b = b[1:]
	id, n := binary.Uvarint(b)
	if n <= 0 || id == 0 || id > 1<<62 {
		return Token{}, false
	}
	t.DeliveryID, b = int64(id), b[n:]
	switch t.Kind {
	case KindOpen, KindUnsubscribe, KindHoneypot, KindBounce, KindPreferences:
		return t, len(b) == 0
	case KindPreferencesForm:
		exp, n := binary.Uvarint(b)
		if n <= 0 || exp > 1<<40 {
			return Token{}, false
		}
		t.Expires = int64(exp)
		return t, n == len(b)
	case KindClick, KindClickURL:
		idx, n := binary.Uvarint(b)
		if n <= 0 || idx > 1<<20 {
			return Token{}, false
		}
		t.LinkIdx, b = int(idx), b[n:]
		if t.Kind == KindClick {
			return t, len(b) == 0
		}
		t.URL = string(b)
		return t, safeURL(t.URL)
	}
	return Token{}, false
}

// safeURL reports whether u is an absolute http or https URL with a host.
func safeURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return false
	}
	return p.Scheme == "http" || p.Scheme == "https"
}

// OpenURL is the delivery's open pixel: {base}/t/o/{token}.gif.
func (s *Signer) OpenURL(baseURL string, deliveryID int64) string {
	return trim(baseURL) + "/t/o/" + s.Encode(Token{Kind: KindOpen, DeliveryID: deliveryID}) + ".gif"
}

// ClickURL is the tracked form of the delivery's link number idx. For a
// static link personalisedURL is "" and the click redirects to the URL stored
// in campaign_links; a link whose URL differs per recipient passes it here
// and it travels signed in the token (it must be an http or https URL; any
// other is tracked as a static link).
func (s *Signer) ClickURL(baseURL string, deliveryID int64, idx int, personalisedURL string) string {
	t := Token{Kind: KindClick, DeliveryID: deliveryID, LinkIdx: idx}
	if personalisedURL != "" && safeURL(personalisedURL) {
		t.Kind, t.URL = KindClickURL, personalisedURL
	}
	return trim(baseURL) + "/t/c/" + s.Encode(t)
}

// UnsubscribeURL is the delivery's unsubscribe page (GET confirms, POST
// unsubscribes: RFC 8058 one-click): {base}/t/u/{token}.
func (s *Signer) UnsubscribeURL(baseURL string, deliveryID int64) string {
	return trim(baseURL) + "/t/u/" + s.Encode(Token{Kind: KindUnsubscribe, DeliveryID: deliveryID})
}

// PreferencesURL is the delivery's preference centre:
// {base}/t/p/{token}. Its token is of its own kind, so a click or
// unsubscribe token cannot open it, nor it unsubscribe anyone.
func (s *Signer) PreferencesURL(baseURL string, deliveryID int64) string {
	return trim(baseURL) + "/t/p/" + s.Encode(Token{Kind: KindPreferences, DeliveryID: deliveryID})
}

// PreferencesFormToken is the preference page's form token for a
// delivery, valid until expires: the page is reached with no login, so a
// save must carry a token only the page handed out.
func (s *Signer) PreferencesFormToken(deliveryID int64, expires time.Time) string {
	return s.Encode(Token{Kind: KindPreferencesForm, DeliveryID: deliveryID, Expires: expires.Unix()})
}

// VerifyPreferencesForm reports whether form is a form token of the
// delivery that has not expired at now.
func (s *Signer) VerifyPreferencesForm(form string, deliveryID int64, now time.Time) bool {
	t, err := s.Verify(form)
	return err == nil && t.Kind == KindPreferencesForm && t.DeliveryID == deliveryID && now.Unix() <= t.Expires
}

// HoneypotURL is the hidden link every email carries: only machines follow it.
func (s *Signer) HoneypotURL(baseURL string, deliveryID int64) string {
	return trim(baseURL) + "/t/h/" + s.Encode(Token{Kind: KindHoneypot, DeliveryID: deliveryID})
}

// bounceEncoding is lower-case base32: mail systems may fold the case of a
// local part, so the bounce token must survive it.
var bounceEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// BounceAddress is the VERP return path for a delivery:
// bounce+{token}@domain, where token identifies the delivery.
func (s *Signer) BounceAddress(deliveryID int64, domain string) string {
	return "bounce+" + bounceEncoding.EncodeToString(s.sign(Token{Kind: KindBounce, DeliveryID: deliveryID})) + "@" + domain
}

// ParseBounceAddress returns the delivery a VERP bounce address was made for
// by BounceAddress, or ErrBadToken.
func (s *Signer) ParseBounceAddress(addr string) (int64, error) {
	local, _, _ := strings.Cut(strings.Trim(strings.TrimSpace(addr), "<>"), "@")
	tok, ok := strings.CutPrefix(strings.ToLower(local), "bounce+")
	if !ok || len(tok) > maxTokenLen {
		return 0, ErrBadToken
	}
	raw, err := bounceEncoding.DecodeString(tok)
	if err != nil {
		return 0, ErrBadToken
	}
	t, err := s.verifyRaw(raw, nil)
	if err != nil || t.Kind != KindBounce {
		return 0, ErrBadToken
	}
	return t.DeliveryID, nil
}

func trim(base string) string { return strings.TrimRight(base, "/") }
