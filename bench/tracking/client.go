package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return 0, "", fmt.Errorf("read response: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.Close {
		c.close()
	}
	return res.StatusCode, res.Header.Get("Location"), nil
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}
