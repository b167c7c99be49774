package tracking

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/peykar/peykar/internal/errs"
)

// maxReportBytes bounds an inbound bounce or complaint message.
const maxReportBytes = 10 << 20

// BounceServer is an inbound SMTP listener for asynchronous bounces (DSNs
// sent to the VERP return path bounce+{token}@domain) and complaint
// feedback reports (ARF). Point the bounce domain's MX at it.
type BounceServer struct {
	svc    *Service
	smtp   *smtp.Server
	ln     net.Listener
	logger *slog.Logger
}

// ListenBounces starts the bounce listener on addr (e.g. ":2525").
func (s *Service) ListenBounces(ctx context.Context, addr, domain string) (*BounceServer, error) {
	bs := &BounceServer{svc: s, logger: s.logger}
	bs.smtp = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &bounceSession{srv: bs}, nil
	}))
	bs.smtp.Domain = domain
	bs.smtp.MaxMessageBytes = maxReportBytes
	bs.smtp.MaxRecipients = 100
	bs.smtp.ReadTimeout = time.Minute
	bs.smtp.WriteTimeout = time.Minute
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tracking: bounce listener: %w", err)
	}
	bs.ln = ln
	go func() {
		if err := bs.smtp.Serve(ln); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			bs.logger.Error("tracking: bounce listener stopped", slog.Any("error", err))
		}
	}()
	return bs, nil
}

// Addr is where the listener accepts connections.
func (bs *BounceServer) Addr() *net.TCPAddr { return bs.ln.Addr().(*net.TCPAddr) }

// Close stops the listener, letting sessions in progress finish.
func (bs *BounceServer) Close(ctx context.Context) error {
	if err := bs.smtp.Shutdown(ctx); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
		return fmt.Errorf("tracking: bounce listener: %w", err)
	}
	return nil
}

type bounceSession struct {
	srv   *BounceServer
	rcpts []string
}

func (s *bounceSession) Reset()                               { s.rcpts = nil }
func (s *bounceSession) Logout() error                        { return nil }
func (s *bounceSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *bounceSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data parses the report and records it. Unknown recipients and messages
// that report nothing are accepted and dropped (a bounce must not bounce);
// a database that cannot record it now answers 451 so the sender retries.
func (s *bounceSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(io.LimitReader(r, maxReportBytes))
	if err != nil {
		return err
	}
	rep, err := ParseReport(bytes.NewReader(raw))
	if err != nil || rep.Type == "" {
		s.srv.logger.Info("tracking: inbound message is not a bounce or complaint; dropped", slog.Any("error", err))
		return nil
	}
	id := s.deliveryOf(rep)
	if id == 0 {
		s.srv.logger.Info("tracking: bounce for no known delivery; dropped", slog.String("type", rep.Type), slog.String("recipient", rep.Recipient))
		return nil
	}
	reason := rep.Status
	if rep.Diagnostic != "" {
		reason += " " + rep.Diagnostic
	}
	err = s.srv.svc.RecordBounce(context.Background(), BounceReport{DeliveryID: id, Type: rep.Type, Reason: reason})
	switch {
	case err == nil, errs.Is(err, errs.NotFound):
		return nil
	default:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
}

// deliveryOf finds the delivery from the VERP recipient or, for feedback
// loops, from the return path inside the reported message.
func (s *bounceSession) deliveryOf(rep Report) int64 {
	for _, list := range [][]string{s.rcpts, rep.ReturnPaths} {
		for _, a := range list {
			if id, err := s.srv.svc.signer.ParseBounceAddress(a); err == nil {
				return id
			}
		}
	}
	return 0
}
