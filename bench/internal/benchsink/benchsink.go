// Package benchsink is an SMTP sink that a benchmark runs as its own
// process, so the sink's CPU is not the measured program's: the benchmark
// binary re-runs itself with a flag that calls Serve, and drives it through
// Start's handle. The sink accepts every message, counts messages and
// recipients, and answers "count" on its standard input with both.
package benchsink

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

type counters struct{ msgs, rcpts atomic.Int64 }

type backend struct{ c *counters }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: b.c}, nil }

type session struct {
	c     *counters
	rcpts int64
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { s.rcpts++; return nil }
func (s *session) Reset()                               { s.rcpts = 0 }
func (s *session) Logout() error                        { return nil }
func (s *session) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.c.msgs.Add(1)
	s.c.rcpts.Add(s.rcpts)
	return nil
}

// Serve is the sink process's main: it listens on a free loopback port,
// prints the port on standard output, answers each "count" line on
// standard input with "messages recipients", and returns when standard
// input closes.
func Serve() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	c := &counters{}
	srv := smtp.NewServer(backend{c})
	srv.Domain = "sink.local"
	srv.AllowInsecureAuth = true
	srv.MaxRecipients = 1000
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	go func() { _ = srv.Serve(l) }()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "count" {
			fmt.Printf("%d %d\n", c.msgs.Load(), c.rcpts.Load())
		}
	}
	return srv.Close()
}

// Sink is the handle on a sink process.
type Sink struct {
	Port int
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	mu   sync.Mutex
}

// Start runs this binary with args (which must make it call Serve) and
// returns the sink once it listens.
func Start(args ...string) (*Sink, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	s := &Sink{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := s.out.ReadString('\n')
	if err != nil {
		s.Stop()
		return nil, fmt.Errorf("sink port: %w", err)
	}
	if s.Port, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
		s.Stop()
		return nil, fmt.Errorf("sink port %q: %w", line, err)
	}
	return s, nil
}

// Count is the messages and recipients the sink has accepted so far.
func (s *Sink) Count() (msgs, rcpts int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, "count\n"); err != nil {
		return 0, 0, err
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscanf(line, "%d %d", &msgs, &rcpts)
	return msgs, rcpts, err
}

// Pid is the sink process's id, for CPU accounting.
func (s *Sink) Pid() int { return s.cmd.Process.Pid }

// URL is an SMTP_URL for peykar that sends to the sink over pool connections.
func (s *Sink) URL(pool int) string {
	return fmt.Sprintf("smtp://127.0.0.1:%d?tls=none&pool=%d", s.Port, pool)
}

// Stop closes the sink's standard input (it exits) and waits for it.
func (s *Sink) Stop() {
	if s == nil || s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.in.Close()
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}
