package outbox

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// Parsed is a message split into decoded parts.
type Parsed struct {
	Headers map[string][]string
	Subject string
	HTML    string
	Text    string
}

// Parse decodes a raw RFC 5322 message: headers (RFC 2047 words decoded),
// and the first text/html and text/plain parts of any multipart nesting, with
// their transfer encodings undone.
func Parse(raw []byte) (Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Parsed{}, fmt.Errorf("read message: %w", err)
	}
	p := Parsed{Headers: map[string][]string{}}
	for k, vs := range m.Header {
		for _, v := range vs {
			p.Headers[k] = append(p.Headers[k], decodeHeader(v))
		}
	}
	p.Subject = decodeHeader(m.Header.Get("Subject"))
	err = walkPart(&p, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, 0)
	return p, err
}

func walkPart(p *Parsed, ctype, cte string, body io.Reader, depth int) error {
	if depth > 10 {
		return fmt.Errorf("multipart nesting too deep")
	}
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			if err := walkPart(p, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part, depth+1); err != nil {
				return err
			}
		}
	}
	r := body
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mt, err)
	}
	switch {
	case mt == "text/html" && p.HTML == "":
		p.HTML = string(b)
	case mt == "text/plain" && p.Text == "":
		p.Text = string(b)
	}
	return nil
}

// newlineStripper drops CR and LF so base64 bodies wrapped at 76 columns decode.
type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
