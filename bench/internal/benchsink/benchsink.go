// Package benchsink is an SMTP sink that a benchmark runs as its own
// process, so the sink's CPU is not the measured program's: the benchmark
// binary re-runs itself with a flag that calls Serve, and drives it through
// Start's handle. The sink accepts every message, counts messages and
// recipients, and answers commands on its standard input: "count" with
// both; "mark" starts a new measurement; "stats" with what was accepted
// since the mark: messages, distinct recipients, and the milliseconds from
// the mark until half, 99% and all of them were accepted.
package benchsink

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

type counters struct {
	msgs, rcpts atomic.Int64

	mu   sync.Mutex
	mark time.Time
	at   []time.Duration // acceptance times since the mark
	seen map[string]int  // recipients since the mark
}

func (c *counters) accepted(rcpts []string) {
	c.mu.Lock()
	if c.seen != nil {
		c.at = append(c.at, time.Since(c.mark))
		for _, r := range rcpts {
			c.seen[r]++
		}
	}
	c.mu.Unlock()
}

// stats is the answer to "stats": messages since the mark, distinct
// recipients, recipients seen more than once, and the milliseconds from the
// mark to 50%, 99% and 100% of the messages.
func (c *counters) stats() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := slices.Clone(c.at)
	slices.Sort(at)
	q := func(f float64) int64 {
		if len(at) == 0 {
			return 0
		}
		return at[min(len(at)-1, int(f*float64(len(at))))].Milliseconds()
	}
	dups := 0
	for _, n := range c.seen {
		if n > 1 {
			dups++
		}
	}
	return fmt.Sprintf("%d %d %d %d %d %d", len(at), len(c.seen), dups, q(0.5), q(0.99), q(1))
}

type backend struct{ c *counters }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{c: b.c}, nil }

type session struct {
	c     *counters
	rcpts []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *session) Reset()        { s.rcpts = s.rcpts[:0] }
func (s *session) Logout() error { return nil }
func (s *session) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.c.msgs.Add(1)
	s.c.rcpts.Add(int64(len(s.rcpts)))
	s.c.accepted(s.rcpts)
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
		switch strings.TrimSpace(sc.Text()) {
		case "count":
			fmt.Printf("%d %d\n", c.msgs.Load(), c.rcpts.Load())
		case "mark":
			c.mu.Lock()
			c.mark, c.at, c.seen = time.Now(), nil, map[string]int{}
			c.mu.Unlock()
			fmt.Println("ok")
		case "stats":
			fmt.Println(c.stats())
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
	line, err := s.ask("count")
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscanf(line, "%d %d", &msgs, &rcpts)
	return msgs, rcpts, err
}

// Stats is what the sink accepted since Mark.
type Stats struct {
	Messages, Distinct, Repeated int64
	// Half, P99 and All are the times from the mark until 50%, 99% and
	// all of those messages were accepted.
	Half, P99, All time.Duration
}

// Mark starts a measurement: Stats counts from now.
func (s *Sink) Mark() error {
	_, err := s.ask("mark")
	return err
}

// Stats is what the sink accepted since Mark.
func (s *Sink) Stats() (Stats, error) {
	line, err := s.ask("stats")
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	var half, p99, all int64
	_, err = fmt.Sscanf(line, "%d %d %d %d %d %d", &st.Messages, &st.Distinct, &st.Repeated, &half, &p99, &all)
	st.Half, st.P99, st.All = time.Duration(half)*time.Millisecond, time.Duration(p99)*time.Millisecond, time.Duration(all)*time.Millisecond
	return st, err
}

func (s *Sink) ask(cmd string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.in, cmd+"\n"); err != nil {
		return "", err
	}
	return s.out.ReadString('\n')
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
