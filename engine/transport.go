package engine

import (
	"context"

	"github.com/wneessen/go-mail"

	"github.com/peykar/peykar/engine/mailer"
)

// Mailer is what the engine needs of an email transport: engine/mailer's
// *Mailer, which sends a chunk of messages on one pooled connection under
// the transport's rate limit and returns each one's outcome. The error is
// for a chunk that could not be tried at all.
type Mailer interface {
	Send(ctx context.Context, msgs []*mail.Msg) ([]mailer.Result, error)
	// SendMessages is Send for messages of either kind: the campaign
	// sender's own MIME form (mailer.Built) or go-mail's.
	SendMessages(ctx context.Context, msgs []mailer.Message) ([]mailer.Result, error)
}
