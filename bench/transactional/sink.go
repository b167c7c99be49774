package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// The sink is this command run again with -sink: a separate process, so
// its CPU is not the server's or the clients'. It accepts every message,
// notes the X-Peykar-Message header and the time it accepted the DATA
// (just before answering 250), and on SIGTERM writes "id unix_nanos" lines
// to -sink-out and exits.

// sinkBackend records acceptances.
type sinkBackend struct {
	mu   sync.Mutex
	seen []acceptance
}

type acceptance struct {
	id int64
	at int64
}

func (b *sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{b: b}, nil }

type sinkSession struct{ b *sinkBackend }

func (s *sinkSession) AuthPlain(string, string) error       { return nil }
func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	id := messageHeader(raw)
	at := time.Now().UnixNano()
	s.b.mu.Lock()
	s.b.seen = append(s.b.seen, acceptance{id: id, at: at})
	s.b.mu.Unlock()
	return nil
}

var headerName = []byte("\nX-Peykar-Message: ")

// messageHeader finds the message id in the headers (-1 without one).
func messageHeader(raw []byte) int64 {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(raw)
	}
	h := bytes.ReplaceAll(raw[:end], []byte("\r\n"), []byte("\n"))
	i := bytes.Index(h, headerName)
	if i < 0 {
		return -1
	}
	rest := h[i+len(headerName):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(rest)), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// runSink serves SMTP on a free loopback port, prints "port N" on stdout,
// and on SIGTERM writes what it accepted to out.
func runSink(out string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b := &sinkBackend{}
	srv := smtp.NewServer(b)
	srv.Domain = "sink.test"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 1 << 20
	srv.MaxRecipients = 50
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("port %d\n", ln.Addr().(*net.TCPAddr).Port)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	_ = srv.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	b.mu.Lock()
	for _, a := range b.seen {
		fmt.Fprintf(w, "%d %d\n", a.id, a.at)
	}
	b.mu.Unlock()
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// sinkProc is the sink process as the bench sees it.
type sinkProc struct {
	cmd  *exec.Cmd
	port int
	out  string
}

// startSink runs this command again with -sink.
func startSink(dir string) (*sinkProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p := &sinkProc{out: dir + "/sink.txt"}
	p.cmd = exec.Command(self, "-sink", "-sink-out", p.out)
	p.cmd.Stderr = os.Stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	if _, err := fmt.Sscanf(line, "port %d", &p.port); err != nil {
		return nil, fmt.Errorf("sink said %q: %w", line, err)
	}
	return p, nil
}

// stop ends the sink and reads its acceptances.
func (p *sinkProc) stop() ([]acceptance, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	if err := p.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("sink: %w", err)
	}
	b, err := os.ReadFile(p.out)
	if err != nil {
		return nil, err
	}
	var out []acceptance
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var a acceptance
		if _, err := fmt.Sscanf(line, "%d %d", &a.id, &a.at); err != nil {
			return nil, errors.New("sink output: " + line)
		}
		out = append(out, a)
	}
	return out, nil
}
