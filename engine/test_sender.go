package engine

import (
	"context"
	"fmt"

	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/engine/mailer"
	"github.com/peykar/peykar/templates"
)

// TestSender sends one-off test messages (a template rendered for a sample
// contact) through the mailer, for the template editor's "send test".
type TestSender struct {
	Mailer Mailer
	// From is the sender address of test messages.
	From string
}

// SendTest implements templates.TestSender. r.Subject arrives with its
// "[test] " prefix (templates.TestSubjectPrefix); no second one is added.
func (s TestSender) SendTest(ctx context.Context, to string, r *templates.Rendered) error {
	msg := mail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return fmt.Errorf("test sender address %q: %w", s.From, err)
	}
	if err := msg.To(to); err != nil {
		return fmt.Errorf("recipient %q: %w", to, err)
	}
	msg.Subject(r.Subject) // the templates package put the one "[test] " prefix on it
	msg.SetGenHeader("X-Peykar-Test", "1")
	msg.SetBodyString(mail.TypeTextPlain, r.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	results, err := s.Mailer.Send(ctx, []*mail.Msg{msg})
	if err != nil {
		return err
	}
	if r := results[0]; r.Outcome != mailer.Sent {
		return fmt.Errorf("the mail server refused the test message: %s", r.Detail)
	}
	return nil
}
