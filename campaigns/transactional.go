package campaigns

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
	"github.com/peykar/peykar/templates"
)

// TransactionalStep is the step key of a transactional campaign's one
// step: every message of the template is a delivery of it.
const TransactionalStep = "message"

// IsTransactional reports whether c is the system campaign of a template's
// transactional messages.
func (c Campaign) IsTransactional() bool { return c.TransactionalTemplateID != nil }

// errTransactional refuses a campaign change on a transactional campaign.
func errTransactional(c Campaign, what string) error {
	return errs.New(errs.Conflict, "campaign '%s' carries the transactional messages of template %d (POST /api/v1/messages): it cannot be %s", c.Name, *c.TransactionalTemplateID, what)
}

// EnsureTransactional returns the id of the campaign that carries template
// t's transactional messages, creating it on first use: named after the
// template, sending from from, running from the start, with one step
// (TransactionalStep) whose links are recorded for click tracking.
// Concurrent first uses create one campaign: the unique
// transactional_template_id decides. db must be a transaction so the
// campaign, its step and its links commit together.
func EnsureTransactional(ctx context.Context, tx pgx.Tx, t templates.Template, from Address) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, query("transactional_campaign"), t.ID).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("transactional campaign of template %d: %w", t.ID, err)
	}
	err = tx.QueryRow(ctx, query("insert_transactional_campaign"), t.Name, from.Name, from.Email, t.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another request created it first (and committed: the insert waited).
		if err := tx.QueryRow(ctx, query("transactional_campaign"), t.ID).Scan(&id); err != nil {
			return 0, fmt.Errorf("transactional campaign of template %d: %w", t.ID, err)
		}
		return id, nil
	}
	if err != nil {
		return 0, wrapFK(err, "create transactional campaign")
	}
	if err := replaceSteps(ctx, tx, id, []Step{{Key: TransactionalStep, TemplateID: t.ID}}); err != nil {
		return 0, err
	}
	compiled, err := templates.Compile(t)
	if err != nil {
		return 0, err
	}
	links := compiled.Links()
	out := make([]Link, len(links))
	for j, l := range links {
		out[j] = Link{Idx: l.Idx, URL: l.URL, Name: l.Name}
	}
	if err := SaveLinks(ctx, tx, id, TransactionalStep, out); err != nil {
		return 0, err
	}
	return id, nil
}
