package contacts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/peykar/peykar/internal/errs"
)

// StatusPending is a contact created by a double opt-in signup form that
// has not confirmed yet. Like every status but Active it is never sent to;
// Activate makes it active. PUT and PATCH cannot set it.
const StatusPending = "pending"

// Signup is what a signup form found or created for an address.
type Signup struct {
	ID int64
	// Created: the address was new and the contact was made by this call.
	Created bool
	// Status is the contact's status after the call.
	Status string
}

// EnsureForSignup returns the contact with in.Email, creating it from in
// when there is none: pending when pending is true (double opt-in), active
// otherwise. An existing contact is returned as it is (a form never
// changes a known person's profile or status). Invalid input gives
// errs.Invalid.
func EnsureForSignup(ctx context.Context, db DBTX, in ContactInput, pending bool) (Signup, error) {
	in.Status = ""
	in.Tags = nil
	if err := in.normalize(); err != nil {
		return Signup{}, err
	}
	status := StatusActive
	if pending {
		status = StatusPending
	}
	src, at, ip := consentArgs(in.Consent)
	c, err := scanContact(db.QueryRow(ctx, query("create_contact"),
		in.Email, in.Name, in.Attributes, in.Tags, status, src, at, ip))
	if err == nil {
		return Signup{ID: c.ID, Created: true, Status: c.Status}, nil
	}
	if !errs.Is(err, errs.NotFound) {
		return Signup{}, err
	}
	var s Signup
	if err := db.QueryRow(ctx, query("signup_contact"), in.Email).Scan(&s.ID, &s.Status); err != nil {
		return Signup{}, fmt.Errorf("find signup contact: %w", err)
	}
	return s, nil
}

// Activate makes a pending contact active (its signup was confirmed) and
// reports whether it changed; any other status is left as it is.
func Activate(ctx context.Context, db DBTX, contactID int64) (bool, error) {
	var id int64
	err := db.QueryRow(ctx, query("activate_contact"), contactID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("activate contact %d: %w", contactID, err)
	}
	return true, nil
}
