package engine

import (
	"context"
	"fmt"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/templates"
	"github.com/peykar/peykar/tracking"
)

// render personalises delivery d's template for contact p, with tracking.
func (w *SendWorker) render(ctx context.Context, c *campaigns.Campaign, d deliveries.Delivery, p contacts.Contact) (*templates.Rendered, error) {
	return w.renderData(ctx, c, d, p, nil)
}

// renderData is render with a transactional message's own data ({{ .Data.x }}).
func (w *SendWorker) renderData(ctx context.Context, c *campaigns.Campaign, d deliveries.Delivery, p contacts.Contact, data map[string]any) (*templates.Rendered, error) {
	templateID, offset, variant := stepTemplate(c, d)
	if templateID == 0 {
		return nil, fmt.Errorf("campaign %d has no step %q", c.ID, d.Step)
	}
	tpl, err := w.variantTemplate(ctx, templateID, variant)
	if err != nil {
		return nil, err
	}
	links, err := w.links.Links(ctx, w.Pool, c.ID, d.Step)
	if err != nil {
		return nil, err
	}
	tr := &deliveryTracker{signer: w.Signer, base: w.BaseURL, id: d.ID, links: links, offset: offset}
	r, err := tpl.compiled.RenderContext(ctx, templates.Data{
		Contact:  p.Profile(),
		Campaign: templates.Campaign{ID: c.ID, Name: c.Name},
		Data:     data,
	}, tr)
	if err != nil {
		return nil, fmt.Errorf("render template %d: %w", templateID, err)
	}
	return r, nil
}

// message builds the MIME message: multipart/alternative text + HTML in
// UTF-8 quoted-printable, subject RFC 2047-encoded by go-mail, a stable
// Message-ID derived from the delivery, and one-click unsubscribe headers.
func (w *SendWorker) message(c *campaigns.Campaign, d deliveries.Delivery, p contacts.Contact, r *templates.Rendered) (*mail.Msg, error) {
	return w.messageFor(withVariantSender(c, d), d, p, r, true)
}

// messageFor is message; bulk false (a transactional message marked
// transactional: a receipt) leaves out List-Unsubscribe, its one-click
// header and Precedence: bulk, which RFC 8058 and RFC 2076 mean for bulk
// mail.
func (w *SendWorker) messageFor(c *campaigns.Campaign, d deliveries.Delivery, p contacts.Contact, r *templates.Rendered, bulk bool) (*mail.Msg, error) {
	msg := mail.NewMsg()
	from, err := w.senders.parse(c.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	msg.FromMailAddress(&from)
	if err := addTo(msg, p.Name, p.Email); err != nil {
		return nil, fmt.Errorf("to %q: %w", p.Email, err)
	}
	if c.ReplyTo != "" {
		if err := msg.ReplyTo(c.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to: %w", err)
		}
	}
	domain := c.From.Email[strings.LastIndexByte(c.From.Email, '@')+1:]
	msg.Subject(r.Subject)
	// SetMessageIDWithValue's header, without its Sprintf.
	msg.SetGenHeader(mail.HeaderMessageID, "<peykar."+strconv.FormatInt(c.ID, 10)+"."+strconv.FormatInt(d.ID, 10)+"@"+domain+">")
	msg.SetDateWithValue(w.Now())
	msg.SetUserAgent(goMailUserAgent)
	msg.SetGenHeader("X-Peykar-Campaign", strconv.FormatInt(c.ID, 10))
	msg.SetGenHeader("X-Peykar-Delivery", strconv.FormatInt(d.ID, 10))
	if bulk {
		unsub := w.Signer.UnsubscribeURL(w.BaseURL, d.ID)
		msg.SetListUnsubscribe(unsub)
		if strings.HasPrefix(unsub, "https://") {
			msg.SetListUnsubscribePost() // RFC 8058 one-click needs an https URL
		}
		msg.SetBulk()
	}
	if w.BounceDomain != "" {
		if err := msg.EnvelopeFrom(w.Signer.BounceAddress(d.ID, w.BounceDomain)); err != nil {
			return nil, fmt.Errorf("envelope from: %w", err)
		}
	}
	msg.SetBodyWriter(mail.TypeTextPlain, bodyWriter(r.Text, bodyChunk))
	msg.AddAlternativeWriter(mail.TypeTextHTML, bodyWriter(r.HTML, bodyChunk))
	return msg, nil
}

// goMailUserAgent is the User-Agent and X-Mailer go-mail sets on a
// message that has none, formatted once here rather than by go-mail for
// every message.
var goMailUserAgent = fmt.Sprintf("go-mail v%s // https://github.com/wneessen/go-mail", mail.VERSION)

// senderCache keeps the parsed From address of the last senders: every
// message of a campaign has the same one, and parsing it (go-mail's
// FromFormat: a Sprintf and net/mail's parser) cost a dozen allocations
// per message. It holds the 64 most recently used.
type senderCache struct {
	once sync.Once
	c    *lru.Cache[campaigns.Address, sender]
}

// sender is a parsed From address and what go-mail makes of it: the From
// header's value and the envelope sender (GetSender(false)).
type sender struct {
	addr     netmail.Address
	header   string
	envelope string
}

// parse is go-mail's FromFormat of a: the same quoting and the same parser,
// so the same header and the same error; only successes are kept. The
// caller gets its own copy, which go-mail may keep in its message.
func (sc *senderCache) parse(a campaigns.Address) (netmail.Address, error) {
	s, err := sc.sender(a)
	return s.addr, err
}

// sender is parse with the From header and envelope sender go-mail would
// write for it.
func (sc *senderCache) sender(a campaigns.Address) (sender, error) {
	sc.once.Do(func() { sc.c, _ = lru.New[campaigns.Address, sender](64) }) // errs only for a size <= 0
	if got, ok := sc.c.Get(a); ok {
		return got, nil
	}
	m := mail.NewMsg()
	if err := m.FromFormat(a.Name, a.Email); err != nil {
		return sender{}, err
	}
	addr := *m.GetFrom()[0]
	envelope, err := m.GetSender(false)
	if err != nil {
		return sender{}, err
	}
	got := sender{addr: addr, header: addr.String(), envelope: envelope}
	sc.c.Add(a, got)
	return got, nil
}

// deliveryTracker makes one delivery's tracking URLs for templates.
type deliveryTracker struct {
	signer *tracking.Signer
	base   string
	id     int64
	links  map[int]string // the campaign's recorded links of this step: idx → URL
	// offset places an A/B variant's own template's links among the
	// step's (campaigns.VariantLinkOffset).
	offset int
}

// ClickURL signs a short token (delivery, link index) when the click
// endpoint's recorded link for idx is exactly target; otherwise — a
// personalised URL, or a template edited since launch — the token carries
// the URL itself, signed, so the redirect always goes where the message said.
func (t *deliveryTracker) ClickURL(idx int, target string) string {
	idx += t.offset
	personalised := ""
	if url, ok := t.links[idx]; !ok || url != target {
		personalised = target
	}
	return t.signer.ClickURL(t.base, t.id, idx, personalised)
}
func (t *deliveryTracker) OpenURL() string        { return t.signer.OpenURL(t.base, t.id) }
func (t *deliveryTracker) UnsubscribeURL() string { return t.signer.UnsubscribeURL(t.base, t.id) }
func (t *deliveryTracker) HoneypotURL() string    { return t.signer.HoneypotURL(t.base, t.id) }
func (t *deliveryTracker) PreferencesURL() string { return t.signer.PreferencesURL(t.base, t.id) }

// templateCache keeps compiled templates for a short while, so a campaign's
// batches compile each template once rather than once per job: the 256
// most recently used (hashicorp/golang-lru), each for templateTTL.
type templateCache struct {
	once sync.Once
	c    *lru.Cache[int64, cachedTemplate]
}

type cachedTemplate struct {
	compiled *templates.Compiled
	at       time.Time
}

const templateTTL = 10 * time.Second

func (tc *templateCache) get(ctx context.Context, db templates.DBTX, id int64) (cachedTemplate, error) {
	tc.once.Do(func() { tc.c, _ = lru.New[int64, cachedTemplate](256) }) // errs only for a size <= 0
	e, ok := tc.c.Get(id)
	if ok && time.Since(e.at) < templateTTL {
		return e, nil
	}
	t, err := templates.Get(ctx, db, id)
	if err != nil {
		return e, err
	}
	compiled, err := templates.Compile(t)
	if err != nil {
		return e, err
	}
	e = cachedTemplate{compiled: compiled, at: time.Now()}
	tc.c.Add(id, e)
	return e, nil
}

// linkCache keeps each campaign step's recorded links (campaign_links, the
// click endpoint's redirect targets) for a short while: tracking's cache,
// whose zero value keeps 1,024 steps for 10 s.
type linkCache = tracking.LinkCache
