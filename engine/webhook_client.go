package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/peykar/peykar/internal/netguard"
)

// WebhookConfig is how webhook requests reach out.
type WebhookConfig struct {
	// Policy says which addresses a request may connect to: the public
	// internet, and the networks in Policy.Allow. Checked on the address
	// actually dialled, after DNS, for every connection.
	Policy netguard.Policy
	// Resolver looks host names up; nil is the system's resolver.
	Resolver *net.Resolver
}

// NewWebhookClient returns the HTTP client webhooks are sent with: its
// dialer refuses addresses cfg.Policy does not allow, it uses no proxy
// from the environment (a proxy would dial for us, unchecked), follows no
// redirect, and bounds every phase of a request.
func NewWebhookClient(cfg WebhookConfig) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: cfg.Policy.Control, Resolver: cfg.Resolver}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil,
			DialContext:            d.DialContext,
			ForceAttemptHTTP2:      true,
			TLSHandshakeTimeout:    5 * time.Second,
			ResponseHeaderTimeout:  webhookTimeout,
			ExpectContinueTimeout:  time.Second,
			MaxIdleConns:           64,
			MaxIdleConnsPerHost:    8,
			IdleConnTimeout:        90 * time.Second,
			MaxResponseHeaderBytes: 16 << 10,
		},
		Timeout:       webhookTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// connectError reduces a failed request to a fixed vocabulary, so that
// neither internal addresses nor anything the remote side said reach
// last_error. Only an address not allowed is final.
func connectError(host string, err error) *WebhookError {
	reason := connectReason(err)
	return &WebhookError{Temporary: reason != "address not allowed", Msg: fmt.Sprintf("webhook %s: %s", host, reason)}
}

func connectReason(err error) string {
	var (
		dnsErr  *net.DNSError
		netErr  net.Error
		certErr *tls.CertificateVerificationError
		hostErr x509.HostnameError
		authErr x509.UnknownAuthorityError
		recErr  tls.RecordHeaderError
		alert   tls.AlertError
	)
	switch {
	case errors.Is(err, netguard.ErrNotAllowed):
		return "address not allowed"
	case errors.As(err, &dnsErr):
		return "DNS lookup failed"
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &authErr), errors.As(err, &recErr), errors.As(err, &alert):
		return "TLS error"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	default:
		return "connection failed"
	}
}
