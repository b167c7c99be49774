package engine

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/peykar/peykar/campaigns"
	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/deliveries"
	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/templates"
)

// A campaign's message is written here, not by go-mail: go-mail's
// Msg.WriteTo was a quarter of `peykar serve`'s CPU while a campaign sent
// (issue 22: a header map per message, each header folded through
// Split/Builder/Sprintf/ReplaceAll, each part encoded into a buffer grown
// from empty and copied, multipart's Sprintf'd part headers), and
// messageFor's setters another tenth. builtMessage writes the same bytes
// for the shape messageFor gives a campaign's message — the same headers
// in go-mail's order (its generic headers sorted by name, then the
// preformatted List-Unsubscribe pair, From, To, Reply-To), folded by
// go-mail's rule, values through the same RFC 2047 encoder, a
// multipart/alternative of a quoted-printable text and HTML part through
// the same encoder — so a recipient gets what go-mail would have sent
// (TestBuiltMatchesGoMail, FuzzBuiltMatchesGoMail and TestMessageGolden
// hold it to go-mail's bytes). Anything outside that shape goes through
// messageFor and go-mail as before.

// maxHeaderLength is go-mail's MaxHeaderLength, the width its header
// folding aims at.
const maxHeaderLength = 76

// headerEncoder is go-mail's encoder of header values for a message in
// UTF-8 with quoted-printable parts (its default): RFC 2047 Q words.
var headerEncoder = mime.QEncoding

var mimeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// builtMessage writes delivery d's message as messageFor and go-mail's
// WriteTo would, into a pooled buffer that release gives back once the
// mailer is done with it. ok is false, and nothing is written, when the
// message is not one builtMessage writes exactly (a To, Reply-To or bounce
// address that net/mail would rewrite or refuse, a sender go-mail cannot
// parse): the caller then builds it with messageFor, which also gives
// go-mail's error for an address it refuses.
func (w *SendWorker) builtMessage(c *campaigns.Campaign, d deliveries.Delivery, p contacts.Contact, r *templates.Rendered, bulk bool) (b *mailer.Built, release func(), ok bool) {
	sender, err := w.senders.sender(c.From)
	if err != nil || !plainMailbox(p.Name, p.Email) {
		return nil, nil, false
	}
	var replyTo string
	if c.ReplyTo != "" {
		a, err := netmail.ParseAddress(c.ReplyTo) // as go-mail's ReplyTo
		if err != nil {
			return nil, nil, false
		}
		replyTo = a.String()
	}
	envelope := sender.envelope
	if w.BounceDomain != "" {
		bounce := w.Signer.BounceAddress(d.ID, w.BounceDomain)
		if !plainMailbox("", bounce) {
			return nil, nil, false
		}
		envelope = (&netmail.Address{Address: bounce}).String()
	}
	to := netmail.Address{Name: p.Name, Address: p.Email}

	buf := mimeBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	buf.Grow(len(r.Text) + len(r.HTML) + len(r.Text)/8 + len(r.HTML)/8 + 1536)
	domain := c.From.Email[strings.LastIndexByte(c.From.Email, '@')+1:]
	cid, did := strconv.FormatInt(c.ID, 10), strconv.FormatInt(d.ID, 10)

	// go-mail's generic headers, sorted by name.
	writeGenHeader(buf, "Date", w.Now().Format(time.RFC1123Z))
	writeGenHeader(buf, "MIME-Version", "1.0")
	writeGenHeader(buf, "Message-ID", "<peykar."+cid+"."+did+"@"+domain+">")
	if bulk {
		writeGenHeader(buf, "Precedence", "bulk")
	}
	writeGenHeader(buf, "Subject", r.Subject)
	writeGenHeader(buf, "User-Agent", goMailUserAgent)
	if bulk {
		writeGenHeader(buf, "X-Auto-Response-Suppress", "All")
	}
	writeGenHeader(buf, "X-Mailer", goMailUserAgent)
	writeGenHeader(buf, "X-Peykar-Campaign", cid)
	writeGenHeader(buf, "X-Peykar-Delivery", did)
	if bulk {
		// Preformatted, unfolded; go-mail writes this pair in map order.
		unsub := w.Signer.UnsubscribeURL(w.BaseURL, d.ID)
		buf.WriteString("List-Unsubscribe: ")
		buf.WriteString(unsubURIs(unsub))
		buf.WriteString("\r\n")
		if strings.HasPrefix(unsub, "https://") {
			buf.WriteString("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
		}
	}
	writeHeader(buf, "From", sender.header)
	writeHeader(buf, "To", to.String())
	if replyTo != "" {
		writeHeader(buf, "Reply-To", replyTo)
	}
	boundary := newBoundary()
	buf.WriteString("Content-Type: multipart/alternative;\r\n boundary=")
	buf.WriteString(boundary)
	buf.WriteString("\r\n\r\n")
	// multipart.Writer's framing, parts with go-mail's part headers
	// (sorted by name).
	buf.WriteString("--")
	buf.WriteString(boundary)
	buf.WriteString("\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n")
	writeQP(buf, r.Text)
	buf.WriteString("\r\n--")
	buf.WriteString(boundary)
	buf.WriteString("\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n")
	writeQP(buf, r.HTML)
	buf.WriteString("\r\n--")
	buf.WriteString(boundary)
	buf.WriteString("--\r\n")

	b = &mailer.Built{From: envelope, Rcpts: []string{(&netmail.Address{Address: p.Email}).String()}, MIME: buf.Bytes()}
	return b, func() { mimeBuffers.Put(buf) }, true
}

// writeGenHeader writes a generic header as go-mail's SetGenHeader and
// writeHeader do: the value RFC 2047-encoded when it needs it, then folded.
func writeGenHeader(buf *bytes.Buffer, key, value string) {
	writeHeader(buf, key, headerEncoder.Encode("UTF-8", value))
}

// writeHeader writes a header line as go-mail's msgWriter.writeHeader
// does for one value: words (split at every single space) are added while
// they fit the line, a line break and a space go before one that does not,
// and then a space before a line break is dropped.
func writeHeader(buf *bytes.Buffer, key, value string) {
	start := buf.Len()
	charLength := maxHeaderLength - 2 - len(key) - 2
	buf.WriteString(key)
	buf.WriteString(": ")
	folded := false
	for rest, more := value, true; more; {
		var word string
		word, rest, more = strings.Cut(rest, " ")
		if charLength-len(word) <= 1 {
			buf.WriteString("\r\n ")
			charLength = maxHeaderLength - 3
			folded = true
		}
		buf.WriteString(word)
		if more {
			buf.WriteByte(' ')
			charLength--
		}
		charLength -= len(word)
	}
	if folded || strings.Contains(value, " \r\n") {
		dropSpaceBeforeBreak(buf, start)
	}
	buf.WriteString("\r\n")
}

// dropSpaceBeforeBreak rewrites buf from start as strings.ReplaceAll(s,
// " \r\n", "\r\n") would.
func dropSpaceBeforeBreak(buf *bytes.Buffer, start int) {
	b := buf.Bytes()
	out := start
	for i := start; i < len(b); i++ {
		if b[i] == ' ' && i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			continue
		}
		b[out] = b[i]
		out++
	}
	buf.Truncate(out)
}

// unsubURIs is go-mail's List-Unsubscribe value for one URI
// (formatUnsubURIs).
func unsubURIs(uri string) string {
	uri = strings.TrimSpace(uri)
	if uri == "" {
		return ""
	}
	return "<" + strings.TrimPrefix(strings.TrimSuffix(uri, ">"), "<") + ">"
}

// writeQP writes s quoted-printable with the encoder go-mail uses, straight
// into buf rather than into a buffer of its own that is then copied.
func writeQP(buf *bytes.Buffer, s string) {
	qp := quotedprintable.NewWriter(buf)
	_, _ = bodyWriter(s, bodyChunk)(qp) // writes to a bytes.Buffer do not fail
	_ = qp.Close()
}

// newBoundary is a multipart boundary of the form mime/multipart draws
// (30 random bytes in hex), from the runtime's ChaCha8 generator instead
// of a getrandom system call per message: a boundary has to be unlikely to
// occur in the parts, not secret.
func newBoundary() string {
	var raw [32]byte
	for i := 0; i < len(raw); i += 8 {
		binary.LittleEndian.PutUint64(raw[i:], rand.Uint64())
	}
	var out [60]byte
	hex.Encode(out[:], raw[:30])
	return string(out[:])
}
