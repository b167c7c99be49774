package main

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/peykar/peykar/campaigns/forms"
	"github.com/peykar/peykar/engine"
)

// formKeys are the keys signup forms sign their tokens with: the server
// secret (and the previous one during a rotation).
func (m *Main) formKeys() forms.Keys {
	k := forms.Keys{Current: []byte(m.secret)}
	if m.Config.PreviousSecret != "" {
		k.Previous = []byte(m.Config.PreviousSecret)
	}
	return k
}

// formService is the signup forms' service (public pages, API, admin
// pages), made once; its clock is Main.Now.
func (m *Main) formService() (*forms.Service, error) {
	if m.forms != nil {
		return m.forms, nil
	}
	now := m.Now
	if now == nil {
		now = time.Now
	}
	svc, err := forms.New(forms.Config{Pool: m.pool, River: m.river, Keys: m.formKeys(), BaseURL: m.Config.BaseURL,
		Now: now, Logger: m.Logger})
	if err != nil {
		return nil, err
	}
	m.forms = svc
	return svc, nil
}

// addFormWorker registers the confirmation mail's worker, which sends
// through the mailer from the configured sender address.
func (m *Main) addFormWorker(workers *river.Workers) {
	notices := engine.NoticeSender{Mailer: m.mailer, From: m.Config.From}
	river.AddWorker(workers, &forms.ConfirmWorker{Pool: m.pool, Keys: m.formKeys(), BaseURL: m.Config.BaseURL, Logger: m.Logger,
		Sender: forms.SenderFunc(func(ctx context.Context, n forms.Notice) error {
			return notices.SendNotice(ctx, n.To, n.ToName, n.Subject, n.Text, n.HTML)
		})})
}
