// Package auth holds who may use Peykar and what they may do: users with
// argon2id passwords and a role, login sessions kept hashed in PostgreSQL,
// API tokens (sha256 of 32 random bytes) sent as "Authorization: Bearer",
// the one-time setup link that creates the first admin, the login backoff
// (per client address, and per account and address: never per account
// alone, so nobody can lock an owner out), CSRF tokens tied to the session,
// and the Echo middleware that authenticates every /admin and /api/v1
// request and checks its role in one place (Allowed).
//
// Roles: admin may do everything; marketer may do everything except manage
// users, API tokens, settings and the job queue UI; manager may only read
// (GET and HEAD) what a marketer may. See Allowed.
//
// Tables: it is the only writer of users, sessions, api_tokens and
// setup_tokens (queries.sql). Other packages go through its functions
// (CreateUser, Authenticate, CreateSession, CreateToken, …) and its
// middleware.
package auth
