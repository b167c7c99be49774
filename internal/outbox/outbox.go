package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/internal/errs"
)

// MaxMessageBytes is the largest message the catch-all accepts.
const MaxMessageBytes = 10 << 20

// Server is the catch-all SMTP server.
type Server struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	smtp   *smtp.Server
	ln     net.Listener
}

// Listen starts the catch-all on addr (e.g. 127.0.0.1:0).
func Listen(ctx context.Context, pool *pgxpool.Pool, addr string, logger *slog.Logger) (*Server, error) {
	s := &Server{pool: pool, logger: logger}
	s.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{srv: s}, nil
	}))
	s.smtp.Domain = "peykar.outbox.localhost"
	s.smtp.MaxMessageBytes = MaxMessageBytes
	s.smtp.MaxRecipients = 1000
	s.smtp.ReadTimeout = time.Minute
	s.smtp.WriteTimeout = time.Minute
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("outbox: listen: %w", err)
	}
	s.ln = ln
	go func() {
		if err := s.smtp.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			logger.Error("outbox SMTP server stopped", slog.Any("error", err))
		}
	}()
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() *net.TCPAddr { return s.ln.Addr().(*net.TCPAddr) }

// Close stops accepting and closes open sessions.
func (s *Server) Close(ctx context.Context) error { return s.smtp.Shutdown(ctx) }

type session struct {
	srv  *Server
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	var subject, msgID string
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		subject = decodeHeader(m.Header.Get("Subject"))
		msgID = strings.Trim(m.Header.Get("Message-Id"), "<>")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = s.srv.pool.Exec(ctx,
		query("store_message"),
		s.from, s.to, subject, msgID, raw)
	if err != nil {
		s.srv.logger.Error("outbox: store message", slog.Any("error", err))
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "outbox storage unavailable, try again"}
	}
	return nil
}

func decodeHeader(v string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// Message is a caught message as listed.
type Message struct {
	ID         int64     `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	MessageID  string    `json:"message_id"`
	// Set by Get only.
	Headers map[string][]string `json:"headers,omitempty"`
	HTML    string              `json:"html,omitempty"`
	Text    string              `json:"text,omitempty"`
}

// Store reads caught messages.
type Store struct{ Pool *pgxpool.Pool }

// List returns messages newest first, before id after (0 for the newest),
// optionally only those sent to rcpt.
func (s Store) List(ctx context.Context, rcpt string, after int64, limit int) ([]Message, error) {
	rows, err := s.Pool.Query(ctx, query("list_messages"), after, rcpt, limit)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Message, error) {
		var m Message
		err := r.Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.Subject, &m.MessageID)
		return m, err
	})
}

// Raw returns the message as received.
func (s Store) Raw(ctx context.Context, id int64) ([]byte, error) {
	var raw []byte
	err := s.Pool.QueryRow(ctx, query("message_raw"), id).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "no outbox message %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("read outbox message: %w", err)
	}
	return raw, nil
}

// Get returns one message with its headers and decoded HTML and text parts.
func (s Store) Get(ctx context.Context, id int64) (Message, error) {
	var m Message
	var raw []byte
	err := s.Pool.QueryRow(ctx, query("message"), id).
		Scan(&m.ID, &m.ReceivedAt, &m.From, &m.To, &m.Subject, &m.MessageID, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, errs.New(errs.NotFound, "no outbox message %d", id)
	}
	if err != nil {
		return m, fmt.Errorf("read outbox message: %w", err)
	}
	parsed, err := Parse(raw)
	if err != nil {
		return m, fmt.Errorf("parse outbox message %d: %w", id, err)
	}
	m.Headers, m.HTML, m.Text = parsed.Headers, parsed.HTML, parsed.Text
	return m, nil
}

// Prune keeps the newest keep messages and those younger than maxAge.
func (s Store) Prune(ctx context.Context, keep int, maxAge time.Duration) (int64, error) {
	tag, err := s.Pool.Exec(ctx, query("prune"),
		keep, maxAge.String())
	if err != nil {
		return 0, fmt.Errorf("prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}
