package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

// The SMTP sink runs as its own process (this binary with -sink FILE): it
// accepts every message and, at each acceptance (the reply to DATA),
// records each recipient with the wall-clock time, so the bench can set
// it against the time it posted that contact's event. It prints its port
// on stdout and writes FILE when it is told to stop (SIGTERM).

type sinkLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *sinkLog) accept(rcpts []string, at time.Time) {
	ns := strconv.FormatInt(at.UnixNano(), 10)
	l.mu.Lock()
	for _, r := range rcpts {
		l.lines = append(l.lines, r+" "+ns)
	}
	l.mu.Unlock()
}

type sinkSession struct {
	log   *sinkLog
	rcpts []string
}

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, to)
	return nil
}
func (s *sinkSession) Reset()        { s.rcpts = s.rcpts[:0] }
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.log.accept(s.rcpts, time.Now())
	return nil
}

// runSink is the sink process's main.
func runSink(file string) error {
	log := &sinkLog{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{log: log}, nil }))
	srv.Domain = "sink.localhost"
	srv.MaxRecipients = 10000
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(l) }()
	fmt.Println(l.Addr().(*net.TCPAddr).Port)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
	_ = srv.Close()
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	log.mu.Lock()
	_, err = w.WriteString(strings.Join(log.lines, "\n") + "\n")
	log.mu.Unlock()
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readSink reads the sink's file: each recipient's acceptance times.
func readSink(file string) (map[string][]time.Time, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	for _, line := range strings.Split(string(b), "\n") {
		rcpt, ns, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("sink file: %q: %w", line, err)
		}
		out[rcpt] = append(out[rcpt], time.Unix(0, n))
	}
	return out, nil
}
