package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/internal/auth"
	"github.com/peykar/peykar/internal/netguard"
)

// Config is the process configuration: environment variables, overridden by
// flags. Only package main reads the environment.
type Config struct {
	// DatabaseURL (DATABASE_URL) is the PostgreSQL server. Empty: a private
	// cluster in DataDir/pg.
	DatabaseURL string
	// SMTPURL (SMTP_URL) is the mail transport,
	// smtp://user:pass@host:port?tls=none|starttls|tls&pool=8&rate=500.
	// Empty: an in-process catch-all whose mail the Outbox shows.
	SMTPURL string
	// Addr (PEYKAR_ADDR) is the HTTP listen address. Default 127.0.0.1:8080.
	Addr string
	// TrackingAddr (PEYKAR_TRACKING_ADDR), when set, is a second listen
	// address whose server answers the click and the open pixel natively
	// with fasthttp (cheaper per request than net/http) and every other
	// request through the same handler as Addr. Point the tracking base
	// URL's traffic at it. Default none: Addr serves everything.
	TrackingAddr string
	// BaseURL (PEYKAR_BASE_URL) is the public URL used in tracking links.
	// Default http://{Addr}.
	BaseURL string
	// Secret (PEYKAR_SECRET) signs tracking tokens and sessions. Empty: one is
	// generated once and kept in DataDir/secret.
	Secret string
	// PreviousSecret (PEYKAR_PREVIOUS_SECRET) is still accepted when verifying,
	// so that rotating Secret does not break links already sent.
	PreviousSecret string
	// DataDir (PEYKAR_DATA_DIR) holds the embedded cluster and the generated
	// secret. Default ./data.
	DataDir string
	// BounceDomain (PEYKAR_BOUNCE_DOMAIN), when set, makes the envelope sender
	// of every message a VERP address bounce+{token}@BounceDomain, so that
	// asynchronous bounces find their delivery.
	BounceDomain string
	// BounceAddr (PEYKAR_BOUNCE_ADDR), when set, is where an inbound SMTP
	// listener takes asynchronous bounces (DSNs to the VERP addresses) and
	// complaint feedback reports, e.g. ":25" for BounceDomain's MX.
	BounceAddr string
	// DKIMDomain, DKIMSelector and DKIMKeyFile (PEYKAR_DKIM_DOMAIN,
	// PEYKAR_DKIM_SELECTOR, PEYKAR_DKIM_KEY_FILE) turn on DKIM signing of
	// every message with the PEM private key in DKIMKeyFile.
	DKIMDomain   string
	DKIMSelector string
	DKIMKeyFile  string
	// RescueAfter (PEYKAR_RESCUE_AFTER) is how long a job may run before it
	// is presumed abandoned by a dead process and retried. Default 3m. It
	// must exceed JobTimeout, or live jobs would be retried while they run.
	RescueAfter string
	// JobTimeout (PEYKAR_JOB_TIMEOUT) is how long one job may run before it
	// is cancelled and retried: a throttled campaign's send batch waits its
	// turn within it, and the analytics recompute gets as long. Default 2m.
	JobTimeout string
	// AdminEmail and AdminPassword (PEYKAR_ADMIN_EMAIL,
	// PEYKAR_ADMIN_PASSWORD) create the first admin when no user exists.
	// Unset: the first run prints a one-time setup link instead.
	AdminEmail    string
	AdminPassword string
	// Mode (PEYKAR_MODE) splits the work between processes: "all" (the
	// default) serves HTTP and works jobs, "web" serves the API, admin UI and
	// tracking endpoints and only enqueues jobs, "worker" works jobs and
	// serves nothing but /healthz, /readyz and /metrics.
	Mode string
	// LogLevel (PEYKAR_LOG_LEVEL): debug, info, warn or error. Default info.
	LogLevel string
	// TrustedProxies (PEYKAR_TRUSTED_PROXIES) are comma-separated CIDRs (or
	// single addresses) of the reverse proxies in front of Peykar. Only a
	// request from one of them has its client address taken from
	// X-Forwarded-For (skipping trusted hops from the right). Default none:
	// the client address is the TCP peer and X-Forwarded-For is ignored.
	TrustedProxies string
	// From (PEYKAR_FROM) is the sender of mail Peykar sends on its own
	// behalf: template test sends and system mail (campaigns carry their own
	// from). An address, optionally with a name ("Shop <news@shop.example>").
	// Default peykar@ the host of BaseURL, or peykar@localhost when that host
	// is an IP address or has no dot.
	From string
	// WebhookAllowNetworks (PEYKAR_WEBHOOK_ALLOW_NETWORKS) are
	// comma-separated CIDRs (or single addresses) that webhooks may reach
	// although they are loopback, private, link-local or otherwise not
	// public, e.g. 10.0.0.0/8 for an internal SMS gateway. Default none:
	// webhooks reach the public internet only.
	WebhookAllowNetworks string
	// Currency (PEYKAR_CURRENCY) is the reporting currency of campaigns
	// without settings.currency: three letters such as EUR. Default EUR.
	Currency string
	// EventsRetention (PEYKAR_EVENTS_RETENTION) is how long tracking events
	// are kept: a number of days ("400d") or a duration ("9600h"), at least
	// 31d. Whole months of events older than that are dropped by the
	// partition job; reports, people and contact stats keep their totals.
	// Default empty: events are kept forever.
	EventsRetention string
	// FrequencyCap (PEYKAR_FREQUENCY_CAP) is the operator's frequency cap
	// across all campaigns, for campaigns without settings.frequency_cap:
	// MAX/PER such as 2/24h, optionally /skip. Default none.
	FrequencyCap string

	// frequencyCap is FrequencyCap parsed (nil: none).
	frequencyCap *campaigns.FrequencyCap
	// ReplicaURL (PEYKAR_REPLICA_URL) is a streaming replica of
	// DatabaseURL's database for reads that may lag: reports, exports,
	// standard reports, analytics and segment counts. Empty: every read
	// goes to the primary.
	ReplicaURL string
	// ReplicaMaxLag (PEYKAR_REPLICA_MAX_LAG) is the staleness past which
	// reads go back to the primary. Default 10s.
	ReplicaMaxLag string

	webhooks    netguard.Policy // parsed WebhookAllowNetworks
	smtp        mailer.Config   // parsed SMTPURL
	rescueAfter time.Duration
	jobTimeout  time.Duration
	dkim        *mailer.DKIMConfig
	proxies     []*net.IPNet // parsed TrustedProxies

	eventsRetention time.Duration // parsed EventsRetention; 0 keeps events
	maxLag          time.Duration
}

// envVars maps each flag to its environment variable.
var envVars = []struct{ flag, env, usage string }{
	{"database-url", "DATABASE_URL", "PostgreSQL URL (default: embedded cluster in the data dir)"},
	{"smtp-url", "SMTP_URL", "SMTP transport URL (default: in-process catch-all)"},
	{"addr", "PEYKAR_ADDR", "HTTP listen address"},
	{"tracking-addr", "PEYKAR_TRACKING_ADDR", "listen address of a second server answering clicks and opens with fasthttp, everything else as on the HTTP address (default: none)"},
	{"base-url", "PEYKAR_BASE_URL", "public base URL for tracking links (default http://ADDR)"},
	{"secret", "PEYKAR_SECRET", "signing key, at least 32 characters (default: generated in the data dir)"},
	{"previous-secret", "PEYKAR_PREVIOUS_SECRET", "previous signing key, still accepted"},
	{"data-dir", "PEYKAR_DATA_DIR", "data directory"},
	{"bounce-domain", "PEYKAR_BOUNCE_DOMAIN", "domain of VERP bounce return paths (default: none)"},
	{"bounce-addr", "PEYKAR_BOUNCE_ADDR", "listen address of the inbound bounce/complaint SMTP server (default: none)"},
	{"rescue-after", "PEYKAR_RESCUE_AFTER", "retry jobs of a dead process after this long (must exceed the job timeout)"},
	{"job-timeout", "PEYKAR_JOB_TIMEOUT", "cancel (and retry) a job that runs longer than this"},
	{"dkim-domain", "PEYKAR_DKIM_DOMAIN", "DKIM signing domain (d=)"},
	{"dkim-selector", "PEYKAR_DKIM_SELECTOR", "DKIM selector (s=)"},
	{"dkim-key-file", "PEYKAR_DKIM_KEY_FILE", "DKIM private key (PEM, RSA or Ed25519)"},
	{"admin-email", "PEYKAR_ADMIN_EMAIL", "email of the admin created on first run (default: print a setup link)"},
	{"admin-password", "PEYKAR_ADMIN_PASSWORD", "password of the admin created on first run, at least 10 characters"},
	{"mode", "PEYKAR_MODE", "all, web (HTTP only) or worker (jobs only)"},
	{"log-level", "PEYKAR_LOG_LEVEL", "log level: debug, info, warn, error"},
	{"from", "PEYKAR_FROM", "sender of test sends and system mail (default peykar@ the host of the base URL)"},
	{"trusted-proxies", "PEYKAR_TRUSTED_PROXIES", "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed (default: none)"},
	{"webhook-allow-networks", "PEYKAR_WEBHOOK_ALLOW_NETWORKS", "comma-separated CIDRs webhooks may reach although loopback or private (default: public internet only)"},
	{"currency", "PEYKAR_CURRENCY", "reporting currency of campaigns without settings.currency (default EUR)"},
	{"events-retention", "PEYKAR_EVENTS_RETENTION", "drop tracking events older than this, whole months at a time, e.g. 400d (default: keep forever)"},
	{"frequency-cap", "PEYKAR_FREQUENCY_CAP", "at most MAX messages per contact per PER across all campaigns, e.g. 2/24h or 2/24h/skip (default: none)"},
	{"replica-url", "PEYKAR_REPLICA_URL", "PostgreSQL URL of a streaming replica for reports, exports and counts (default: none)"},
	{"replica-max-lag", "PEYKAR_REPLICA_MAX_LAG", "staleness past which reads go back to the primary (default 10s)"},
}

// ConfigError names the setting that is wrong and how.
type ConfigError struct {
	Var string
	Msg string
}

func (e *ConfigError) Error() string { return e.Var + ": " + e.Msg }

// LoadConfig reads the environment (through getenv) and then args as flags.
// It returns the remaining arguments.
func LoadConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	c := Config{Addr: "127.0.0.1:8080", DataDir: "./data", LogLevel: "info", RescueAfter: "3m", JobTimeout: "2m", Mode: "all", Currency: campaigns.DefaultCurrency}
	fields := map[string]*string{
		"database-url": &c.DatabaseURL, "smtp-url": &c.SMTPURL, "addr": &c.Addr, "tracking-addr": &c.TrackingAddr, "base-url": &c.BaseURL,
		"secret": &c.Secret, "previous-secret": &c.PreviousSecret, "data-dir": &c.DataDir, "log-level": &c.LogLevel, "mode": &c.Mode,
		"bounce-domain": &c.BounceDomain, "bounce-addr": &c.BounceAddr, "rescue-after": &c.RescueAfter, "job-timeout": &c.JobTimeout,
		"admin-email": &c.AdminEmail, "admin-password": &c.AdminPassword,
		"dkim-domain": &c.DKIMDomain, "dkim-selector": &c.DKIMSelector, "dkim-key-file": &c.DKIMKeyFile,
		"trusted-proxies": &c.TrustedProxies, "from": &c.From, "webhook-allow-networks": &c.WebhookAllowNetworks,
		"currency": &c.Currency, "frequency-cap": &c.FrequencyCap,

		"events-retention": &c.EventsRetention,
	}
	fields["replica-url"], fields["replica-max-lag"] = &c.ReplicaURL, &c.ReplicaMaxLag
	fset := flag.NewFlagSet("peykar", flag.ContinueOnError)
	fset.SetOutput(stderr)
	for _, v := range envVars {
		p := fields[v.flag]
		if s := getenv(v.env); s != "" {
			*p = s
		}
		fset.StringVar(p, v.flag, *p, v.usage+" ["+v.env+"]")
	}
	if err := fset.Parse(args); err != nil {
		return c, nil, err
	}
	return c, fset.Args(), c.validate()
}

func (c *Config) validate() error {
	if c.DatabaseURL != "" {
		if _, err := pgxpool.ParseConfig(c.DatabaseURL); err != nil {
			return &ConfigError{"DATABASE_URL", "not a valid PostgreSQL URL: " + err.Error()}
		}
	}
	if c.SMTPURL != "" {
		sc, err := mailer.ParseURL(c.SMTPURL)
		if err != nil {
			return &ConfigError{"SMTP_URL", err.Error()}
		}
		c.smtp = sc
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return &ConfigError{"PEYKAR_ADDR", fmt.Sprintf("%q is not host:port", c.Addr)}
	}
	if c.TrackingAddr != "" {
		if _, _, err := net.SplitHostPort(c.TrackingAddr); err != nil {
			return &ConfigError{"PEYKAR_TRACKING_ADDR", fmt.Sprintf("%q is not host:port", c.TrackingAddr)}
		}
		if c.Mode == "worker" {
			return &ConfigError{"PEYKAR_TRACKING_ADDR", "a worker (PEYKAR_MODE=worker) serves no tracking"}
		}
	}
	if c.BaseURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		c.BaseURL = "http://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return &ConfigError{"PEYKAR_BASE_URL", fmt.Sprintf("%q must be an absolute http or https URL without query or fragment", c.BaseURL)}
	}
	c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	if c.From == "" {
		c.From = defaultFrom(u.Hostname())
	}
	if a, err := mail.ParseAddress(c.From); err != nil || !strings.Contains(a.Address, "@") {
		return &ConfigError{"PEYKAR_FROM", fmt.Sprintf("%q is not an email address such as news@shop.example or \"Shop <news@shop.example>\"", c.From)}
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		return &ConfigError{"PEYKAR_SECRET", "must be at least 32 characters (generate one with: openssl rand -base64 32)"}
	}
	if c.PreviousSecret != "" && len(c.PreviousSecret) < 32 {
		return &ConfigError{"PEYKAR_PREVIOUS_SECRET", "must be at least 32 characters"}
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		return &ConfigError{"PEYKAR_ADMIN_EMAIL", "PEYKAR_ADMIN_EMAIL and PEYKAR_ADMIN_PASSWORD go together: set both or neither"}
	}
	if c.AdminPassword != "" {
		if err := auth.CheckPassword("PEYKAR_ADMIN_PASSWORD", c.AdminPassword); err != nil {
			return &ConfigError{"PEYKAR_ADMIN_PASSWORD", fmt.Sprintf("must be at least %d characters", auth.MinPasswordLength)}
		}
	}
	if c.DataDir == "" {
		return &ConfigError{"PEYKAR_DATA_DIR", "must not be empty"}
	}
	if c.DKIMDomain != "" || c.DKIMSelector != "" || c.DKIMKeyFile != "" {
		if c.DKIMDomain == "" || c.DKIMSelector == "" || c.DKIMKeyFile == "" {
			return &ConfigError{"PEYKAR_DKIM_KEY_FILE", "DKIM needs PEYKAR_DKIM_DOMAIN, PEYKAR_DKIM_SELECTOR and PEYKAR_DKIM_KEY_FILE together"}
		}
		pem, err := os.ReadFile(c.DKIMKeyFile)
		if err != nil {
			return &ConfigError{"PEYKAR_DKIM_KEY_FILE", err.Error()}
		}
		c.dkim = &mailer.DKIMConfig{Domain: c.DKIMDomain, Selector: c.DKIMSelector, KeyPEM: pem}
		if err := c.dkim.Check(); err != nil {
			return &ConfigError{"PEYKAR_DKIM_KEY_FILE", err.Error()}
		}
	}
	if err := c.validateJobTimes(); err != nil {
		return err
	}
	switch c.Mode {
	case "all", "web", "worker":
	default:
		return &ConfigError{"PEYKAR_MODE", fmt.Sprintf("%q is not one of all, web, worker", c.Mode)}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &ConfigError{"PEYKAR_LOG_LEVEL", fmt.Sprintf("%q is not one of debug, info, warn, error", c.LogLevel)}
	}
	proxies, err := parseCIDRs(c.TrustedProxies)
	if err != nil {
		return &ConfigError{"PEYKAR_TRUSTED_PROXIES", err.Error()}
	}
	c.proxies = proxies
	if c.webhooks, err = netguard.ParsePolicy(c.WebhookAllowNetworks); err != nil {
		return &ConfigError{"PEYKAR_WEBHOOK_ALLOW_NETWORKS", err.Error()}
	}
	c.Currency = strings.ToUpper(strings.TrimSpace(c.Currency))
	if !campaigns.CheckCurrency(c.Currency) {
		return &ConfigError{"PEYKAR_CURRENCY", fmt.Sprintf("%q is not a three-letter currency code such as EUR", c.Currency)}
	}
	if c.frequencyCap, err = campaigns.ParseFrequencyCap(c.FrequencyCap); err != nil {
		return &ConfigError{"PEYKAR_FREQUENCY_CAP", err.Error()}
	}
	if err := c.validateRetention(); err != nil {
		return err
	}
	return c.validateReplica()
}

// validateJobTimes parses RescueAfter and JobTimeout. River rescues a job
// that has run longer than RescueAfter as abandoned, so a job must be
// cancelled (JobTimeout) before that, or a live job would run twice.
func (c *Config) validateJobTimes() error {
	rescue, err := time.ParseDuration(c.RescueAfter)
	if err != nil || rescue < time.Second {
		return &ConfigError{"PEYKAR_RESCUE_AFTER", fmt.Sprintf("%q must be a duration of at least 1s", c.RescueAfter)}
	}
	timeout, err := time.ParseDuration(c.JobTimeout)
	if err != nil || timeout < time.Second {
		return &ConfigError{"PEYKAR_JOB_TIMEOUT", fmt.Sprintf("%q must be a duration of at least 1s", c.JobTimeout)}
	}
	if rescue <= timeout {
		return &ConfigError{"PEYKAR_RESCUE_AFTER", fmt.Sprintf("PEYKAR_RESCUE_AFTER (%s) must be longer than PEYKAR_JOB_TIMEOUT (%s), or jobs still running would be retried: raise PEYKAR_RESCUE_AFTER or lower PEYKAR_JOB_TIMEOUT", rescue, timeout)}
	}
	c.rescueAfter, c.jobTimeout = rescue, timeout
	return nil
}

// defaultFrom is the sender when PEYKAR_FROM is unset: peykar@ the public
// host, which a real provider can be told to accept; an IP address or a
// dotless name makes no deliverable domain, so the catch-all's localhost.
func defaultFrom(host string) string {
	if host == "" || net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return "peykar@localhost"
	}
	return "peykar@" + strings.ToLower(host)
}

// parseCIDRs parses a comma-separated list of CIDRs; a bare address is a
// range of one (/32 or /128).
func parseCIDRs(s string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			ip := net.ParseIP(part)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an IP address", part)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or fd00::/8", part)
		}
		out = append(out, n)
	}
	return out, nil
}

// loadOrCreateSecret returns Secret, or the one kept in DataDir/secret,
// generating it on first use.
func (c *Config) loadOrCreateSecret() (string, error) {
	if c.Secret != "" {
		return c.Secret, nil
	}
	path := filepath.Join(c.DataDir, "secret")
	b, err := os.ReadFile(path) //nolint:gosec // G304: the secret file in the operator's data directory
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return "", &ConfigError{"PEYKAR_SECRET", fmt.Sprintf("the generated secret in %s is damaged (shorter than 32 characters): remove it or set PEYKAR_SECRET", path)}
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.MkdirAll(c.DataDir, 0o711); err != nil {
		return "", &ConfigError{"PEYKAR_DATA_DIR", err.Error()}
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	s := base64.RawURLEncoding.EncodeToString(raw)
	//nolint:gosec // G304: the secret file in the operator's data directory
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process won the race
		return c.loadOrCreateSecret()
	}
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, f.Close()
}
