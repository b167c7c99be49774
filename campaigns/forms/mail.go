package forms

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"log/slog"
	"strings"
	texttemplate "text/template"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/contacts"
	"github.com/peykar/peykar/campaigns/topics"
	"github.com/peykar/peykar/internal/errs"
)

//go:embed pages
var pagesFS embed.FS

var (
	mailHTML = htmltemplate.Must(htmltemplate.ParseFS(pagesFS, "pages/mail.html"))
	mailText = texttemplate.Must(texttemplate.ParseFS(pagesFS, "pages/mail.txt"))
)

// Notice is a one-off service message (a confirmation mail) for a Sender.
type Notice struct {
	To, ToName, Subject, Text, HTML string
}

// Sender sends a Notice through the server's mailer.
type Sender interface {
	SendNotice(ctx context.Context, n Notice) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, n Notice) error

// SendNotice implements Sender.
func (f SenderFunc) SendNotice(ctx context.Context, n Notice) error { return f(ctx, n) }

// ConfirmWorker sends the confirmation mail of a signup (ConfirmArgs): in
// the form's language, with the signed link to /f/confirm/{token}.
type ConfirmWorker struct {
	river.WorkerDefaults[ConfirmArgs]
	Pool    *pgxpool.Pool
	Keys    Keys
	BaseURL string
	Sender  Sender
	Logger  *slog.Logger
}

// Work implements river.Worker. A signup confirmed, gone, or whose
// contact can no longer be sent to gets no mail.
func (w *ConfirmWorker) Work(ctx context.Context, job *river.Job[ConfirmArgs]) error {
	sg, err := getSignup(ctx, w.Pool, job.Args.SignupID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if sg.ConfirmedAt != nil {
		return nil
	}
	f, err := Get(ctx, w.Pool, sg.FormID)
	if err != nil {
		return err
	}
	c, err := contacts.Get(ctx, w.Pool, sg.ContactID)
	if err != nil {
		return err
	}
	if c.Status != contacts.StatusActive && c.Status != contacts.StatusPending {
		return nil
	}
	ts, err := topics.ByIDs(ctx, w.Pool, "topic_ids", sg.TopicIDs)
	if err != nil && !errs.Is(err, errs.Invalid) {
		return err
	}
	names := make([]string, 0, len(ts))
	for _, t := range ts {
		names = append(names, t.Name)
	}
	link := strings.TrimRight(w.BaseURL, "/") + "/f/confirm/" + w.Keys.sign(kindConfirm, sg.ID, sg.ExpiresAt)
	n, err := confirmMail(f.Language, c.Email, c.Name, names, link)
	if err != nil {
		return err
	}
	if err := w.Sender.SendNotice(ctx, n); err != nil {
		return fmt.Errorf("send confirmation of signup %d: %w", sg.ID, err)
	}
	if w.Logger != nil {
		w.Logger.InfoContext(ctx, "confirmation mail sent", slog.Int64("signup_id", sg.ID), slog.Int64("form_id", f.ID))
	}
	return nil
}

// confirmMail renders the confirmation mail (html/template escapes the
// topic names and the link).
func confirmMail(lang, to, name string, topicNames []string, link string) (Notice, error) {
	w := wordsFor(lang)
	data := struct {
		W      words
		Topics []string
		Link   string
	}{w, topicNames, link}
	var h, t bytes.Buffer
	if err := mailHTML.Execute(&h, data); err != nil {
		return Notice{}, fmt.Errorf("render confirmation mail: %w", err)
	}
	if err := mailText.Execute(&t, data); err != nil {
		return Notice{}, fmt.Errorf("render confirmation mail: %w", err)
	}
	if to == "" {
		return Notice{}, errors.New("confirmation mail without an address")
	}
	return Notice{To: to, ToName: name, Subject: w.MailSubject, Text: t.String(), HTML: h.String()}, nil
}
