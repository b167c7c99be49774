-- Messages caught by the embedded SMTP catch-all (the default transport when
-- SMTP_URL is unset), shown in the admin Outbox.
CREATE TABLE outbox_messages (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    mail_from   text NOT NULL,
    rcpt_to     text[] NOT NULL,
    subject     text NOT NULL DEFAULT '',
    message_id  text NOT NULL DEFAULT '',
    raw         bytea NOT NULL
);
CREATE INDEX outbox_messages_rcpt_idx ON outbox_messages USING gin (rcpt_to);

---- create above / drop below ----

DROP TABLE outbox_messages;
