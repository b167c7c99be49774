-- The auth package's queries on users, sessions, api_tokens and setup_tokens,
-- the tables it owns, by name.

-- name: password_hash_by_id
SELECT password_hash FROM users WHERE id = $1;

-- name: user_by_email
SELECT id, email, role, created_at FROM users WHERE email = $1;

-- name: set_password
UPDATE users SET password_hash = $2 WHERE id = $1;

-- name: end_other_sessions
-- A password change ends every other session of the user; $2 is the
-- session that made the change, kept.
DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2;

-- name: set_role
UPDATE users SET role = $2 WHERE id = $1;

-- name: lock_admins
-- Locks every admin row so two concurrent demotions cannot leave no
-- admin.
SELECT id FROM users WHERE role = 'admin' ORDER BY id FOR UPDATE;

-- name: lock_user_role
SELECT role FROM users WHERE id = $1 FOR UPDATE;

-- name: revoke_tokens_of
-- A user who stops being an admin loses the API tokens they made.
UPDATE api_tokens SET revoked_at = now() WHERE created_by = $1 AND revoked_at IS NULL;

-- name: create_session
INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::interval);

-- name: session_user
-- An expired session is no session: expires_at is checked here.
SELECT u.id, u.email, u.role, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.token_hash = $1 AND s.expires_at > now();

-- name: delete_session
-- Logging out also sweeps expired sessions, so the table stays small.
DELETE FROM sessions WHERE token_hash = $1 OR expires_at < now();

-- name: create_setup_token
INSERT INTO setup_tokens (token_hash) VALUES ($1);

-- name: setup_token_valid
-- A setup token works only while there are no users: the first user ends
-- setup.
SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1)
	AND NOT EXISTS (SELECT 1 FROM users);

-- name: lock_setup_tokens
-- Serialises two setups racing with the same token.
LOCK TABLE setup_tokens IN EXCLUSIVE MODE;

-- name: delete_setup_tokens
DELETE FROM setup_tokens;

-- name: create_token
INSERT INTO api_tokens (name, role, token_hash, created_by) VALUES ($1, $2, $3, $4)
	RETURNING id, created_at;

-- name: token_by_secret
SELECT id, name, role, created_by, created_at, last_used_at FROM api_tokens
	WHERE token_hash = $1 AND revoked_at IS NULL;

-- name: touch_token
-- The caller writes last_used_at at most once a minute, to spare writes.
UPDATE api_tokens SET last_used_at = now() WHERE id = $1;

-- name: list_tokens
SELECT id, name, role, created_by, created_at, last_used_at, revoked_at
	FROM api_tokens ORDER BY id DESC;

-- name: revoke_token
UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1;

-- name: create_user
-- No row back means the email is taken (a conflict for the caller).
INSERT INTO users (email, password_hash, role) VALUES ($1, $2, $3)
	ON CONFLICT (email) DO NOTHING RETURNING id, created_at;

-- name: user_for_login
-- The caller lower-cases and trims the email.
SELECT id, email, role, created_at, password_hash FROM users WHERE email = $1;

-- name: list_users
SELECT id, email, role, created_at FROM users ORDER BY email;

-- name: count_users
SELECT count(*) FROM users;

-- name: delete_user
DELETE FROM users WHERE id = $1;

-- name: user_timezone
SELECT coalesce(timezone, '') FROM users WHERE id = $1;

-- name: set_user_timezone
-- $2 NULL clears the choice.
UPDATE users SET timezone = $2 WHERE id = $1;
