package mailer

import (
	"fmt"
	"net"
	"net/url"
	"strconv"

	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/campaigns/settings"
)

// TLS modes of an SMTP transport.
const (
	TLSNone     = "none"     // plaintext (local relays, test sinks)
	TLSStartTLS = "starttls" // STARTTLS required
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Config describes one SMTP transport.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	// TLS is one of TLSNone, TLSStartTLS, TLSImplicit. Default TLSStartTLS
	// (TLSImplicit for smtps://).
	TLS string
	// Pool is how many persistent connections send in parallel. Default 8.
	Pool int
	// Rate caps messages per second over the whole transport; 0 is unlimited.
	Rate float64
	// NoChunking keeps to DATA even when the server offers CHUNKING
	// (SMTP_URL chunking=off). By default (chunking=auto, or on) BDAT is
	// used when the server offers both CHUNKING and PIPELINING: a mailer
	// call's messages go out in one write, cheaper per message. Its
	// windows reach the server whole, which the crash window allows for:
	// a campaign's sender reserves a slice before the mailer writes it,
	// and the mailer checks the sender's lease right before the write
	// (WithWriteCheck), so a worker frozen and presumed dead writes
	// nothing more after it resumes.
	NoChunking bool
	// DKIM, when set, signs every message.
	DKIM *DKIMConfig
}

// DKIMConfig is a DKIM signing key and where its public half is published
// (selector._domainkey.domain).
type DKIMConfig struct {
	Domain   string
	Selector string
	// KeyPEM is an RSA or Ed25519 private key, PKCS#1 or PKCS#8.
	KeyPEM []byte
}

// Check parses the key, so a bad one is reported at start-up.
func (d *DKIMConfig) Check() error {
	if d.Domain == "" || d.Selector == "" {
		return fmt.Errorf("DKIM needs a domain and a selector")
	}
	if _, err := mail.PrivKeyFromPEM(d.KeyPEM); err != nil {
		return fmt.Errorf("DKIM key: %w", err)
	}
	return nil
}

// ParseURL parses smtp://user:pass@host:port?tls=none|starttls|tls&pool=8&rate=500&chunking=auto|on|off
// (smtps:// implies tls=tls). chunking=on is auto: BDAT is used only with
// a server that offers it.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		return Config{}, fmt.Errorf("not a URL: %w", err)
	}
	c := Config{TLS: TLSStartTLS, Pool: 8}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.TLS = TLSImplicit
	default:
		return c, fmt.Errorf("scheme must be smtp or smtps, not %q", u.Scheme)
	}
	c.Host = u.Hostname()
	if c.Host == "" {
		return c, fmt.Errorf("host is missing")
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		switch k {
		case "tls", "pool", "rate", "chunking":
		default:
			return c, fmt.Errorf("unknown parameter %q (known: tls, pool, rate, chunking)", k)
		}
	}
	if v := q.Get("tls"); v != "" {
		switch v {
		case TLSNone, TLSStartTLS, TLSImplicit:
			c.TLS = v
		default:
			return c, fmt.Errorf("tls=%q must be none, starttls or tls", v)
		}
	}
	if v := q.Get("pool"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 256 {
			return c, fmt.Errorf("pool=%q must be a whole number from 1 to 256", v)
		}
		c.Pool = n
	}
	if v := q.Get("rate"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || !settings.ValidRate(r) {
			return c, fmt.Errorf("rate=%q %s", v, settings.RateMessage)
		}
		c.Rate = r
	}
	switch v := q.Get("chunking"); v {
	case "", "auto", "on":
	case "off":
		c.NoChunking = true
	default:
		return c, fmt.Errorf("chunking=%q must be auto, on or off", v)
	}
	c.Port = map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[c.TLS]
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("port %q is not a port number", p)
		}
		c.Port = n
	}
	return c, nil
}

// Addr returns host:port.
func (c Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }
