package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// rawClient is a minimal keep-alive HTTP/1.1 client for the load
// generator, in the spirit of wrk: one connection, one request at a time,
// no per-connection goroutines, so the generator spends its CPU on
// requests rather than on the client's machinery (net/http's Transport costs
// about as much CPU as the server it measures).
type rawClient struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
	buf  []byte
}

const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// get requests u and returns the response's status and Location.
func (c *rawClient) get(u string) (int, string, error) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return 0, "", err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 4096)
	}
	p, err := url.Parse(u)
	if err != nil {
		return 0, "", err
	}
	c.buf = append(c.buf[:0], "GET "...)
	c.buf = append(c.buf, p.RequestURI()...)
	c.buf = append(c.buf, " HTTP/1.1\r\nHost: "...)
	c.buf = append(c.buf, p.Host...)
	c.buf = append(c.buf, "\r\nUser-Agent: "+userAgent+"\r\n\r\n"...)
	if _, err := c.conn.Write(c.buf); err != nil {
		c.close()
		return 0, "", err
	}
	code, location, length, closeConn, err := c.readHead()
	if err != nil {
		c.close()
		return 0, "", fmt.Errorf("read response: %w", err)
	}
	if _, err := c.br.Discard(length); err != nil {
		c.close()
		return 0, "", fmt.Errorf("read body: %w", err)
	}
	if closeConn {
		c.close()
	}
	return code, location, nil
}

// readHead parses a response's status line and the headers the load test
// needs. Bodies must have a Content-Length (the tracking endpoints' do).
func (c *rawClient) readHead() (code int, location string, length int, closeConn bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, "", 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, "", 0, false, fmt.Errorf("bad status line %q", line)
	}
	code, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, "", 0, false, err
	}
	for {
		line, err = c.br.ReadSlice('\n')
		if err != nil {
			return 0, "", 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return code, location, length, closeConn, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, "", 0, false, err
			}
		case bytes.EqualFold(name, []byte("Location")):
			location = string(value)
		case bytes.EqualFold(name, []byte("Connection")):
			closeConn = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, "", 0, false, fmt.Errorf("chunked responses are not supported")
		}
	}
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
