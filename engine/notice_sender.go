package engine

import (
	"context"
	"fmt"

	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/engine/mailer"
)

// NoticeSender sends one-off service messages to one person (a signup
// form's confirmation mail) through the mailer, outside any campaign.
type NoticeSender struct {
	Mailer Mailer
	// From is the sender address of the notices.
	From string
}

// SendNotice sends a text and HTML message to to (named toName). A refusal
// by the mail server is an error; the caller's job retries it.
func (s NoticeSender) SendNotice(ctx context.Context, to, toName, subject, text, html string) error {
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("notice sender address %q: %w", s.From, err)
	}
	if err := msg.AddToFormat(toName, to); err != nil {
		return fmt.Errorf("recipient %q: %w", to, err)
	}
	msg.Subject(subject)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, text)
	msg.AddAlternativeString(mail.TypeTextHTML, html)
	results, err := s.Mailer.Send(ctx, []*mail.Msg{msg})
	if err != nil {
		return err
	}
	if r := results[0]; r.Outcome != mailer.Sent {
		return fmt.Errorf("the mail server refused the notice: %s", r.Detail)
	}
	return nil
}
