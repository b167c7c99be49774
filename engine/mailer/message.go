package mailer

import (
	"bytes"
	"fmt"
	"io"

	"github.com/wneessen/go-mail"
)

// Message is one message for SendMessages: go-mail's *mail.Msg, whose MIME
// form go-mail writes when it goes out, or a *Built, whose maker wrote it
// already.
type Message interface {
	// GetSender is the envelope sender as MAIL FROM takes it ("<a@b>";
	// the mailer passes false).
	GetSender(useFullAddr bool) (string, error)
	// GetRecipients are the envelope recipients, each as RCPT TO takes it.
	GetRecipients() ([]string, error)
	// WriteTo writes the message's MIME form (headers, blank line, body).
	WriteTo(w io.Writer) (int64, error)
}

// Built is a message whose MIME form its maker wrote, byte for byte what
// go-mail's WriteTo would write for the same message: the campaign sender
// writes its messages itself (engine/message_mime.go) because go-mail's
// builder was the largest part of the process's CPU per message (issue
// 22). The mailer signs it with DKIM as go-mail signs a Msg.
type Built struct {
	// From is the envelope sender and Rcpts the envelope recipients, each
	// as go-mail's GetSender(false) and GetRecipients give them ("<a@b>").
	From  string
	Rcpts []string
	// MIME is the whole message: headers, blank line, body.
	MIME []byte
}

// GetSender implements Message: the envelope sender (a Built has no
// display name to add, so useFullAddr changes nothing).
func (b *Built) GetSender(bool) (string, error) {
	if b.From == "" {
		return "", mail.ErrNoFromAddress
	}
	return b.From, nil
}

// GetRecipients implements Message.
func (b *Built) GetRecipients() ([]string, error) {
	if len(b.Rcpts) == 0 {
		return nil, mail.ErrNoRcptAddresses
	}
	return b.Rcpts, nil
}

// WriteTo implements Message and io.WriterTo.
func (b *Built) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(b.MIME)
	return int64(n), err
}

// writeSigned writes msg to out, DKIM-signed by signer: a go-mail Msg signs
// itself in its WriteTo; a Built is signed here the way that WriteTo signs
// (the signature header over the headers up to the first blank line and
// the body after it, then the message).
func writeSigned(out *bytes.Buffer, msg Message, signer *mail.DKIMSigner) error {
	if m, ok := msg.(*mail.Msg); ok {
		m.SetDKIM(signer)
		_, err := m.WriteTo(out)
		return err
	}
	start := out.Len()
	if _, err := msg.WriteTo(out); err != nil {
		return err
	}
	raw := out.Bytes()[start:]
	headers, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		headers, body = raw[:i+2], raw[i+4:]
	}
	sig, err := signer.Sign(headers, body)
	if err != nil {
		return fmt.Errorf("failed to DKIM sign message: %w", err)
	}
	whole := append([]byte(sig), raw...)
	out.Truncate(start)
	out.Write(whole)
	return nil
}
