package templates

import (
	"bytes"

	"github.com/peykar/peykar/internal/errs"
)

// Render renders one message for d. With a nil tr (previews, test sends)
// links stay as written, no pixel or honeypot is added and unsubscribe_url
// is "#". A render failure (typically a missing attribute without a
// default) is an *errs.Error naming the part, line and column, for the
// sender to record. It is safe for concurrent use.
func (c *Compiled) Render(d Data, tr Tracker) (*Rendered, error) {
	v := viewPool.Get().(*view)
	v.reset(d, c, tr)
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		v.clear()
		viewPool.Put(v)
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	r := new(Rendered)

	buf.Reset()
	if err := c.subject.Execute(buf, v); err != nil {
		return nil, fieldError("subject", c.tmpl.Subject, err)
	}
	if bytes.ContainsAny(buf.Bytes(), "\r\n") {
		return nil, errs.Field("subject", "renders more than one line for contact %d", d.Contact.ID)
	}
	r.Subject = string(bytes.TrimSpace(buf.Bytes()))

	buf.Reset()
	if err := c.html.Execute(buf, v); err != nil {
		return nil, c.htmlError(err)
	}
	r.HTML = buf.String()

	buf.Reset()
	if err := c.text.Execute(buf, v); err != nil {
		return nil, fieldError("text", c.textSrc, err)
	}
	text := buf.Bytes()
	if c.tmpl.Text == "" {
		text = tidyText(text)
	}
	r.Text = string(bytes.TrimSpace(text))
	return r, nil
}
