package outbox

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// errCannotRedact is returned when a message's structure or encoding cannot
// be read well enough to be sure every token is found.
var errCannotRedact = errors.New("message cannot be redacted")

// RedactRaw returns the raw message with every tracking token in its
// headers and parts redacted (see RedactText). Its structure is kept:
// headers in their order, multipart boundaries, and each part in its own
// transfer encoding, re-encoded only where a token was replaced. A message
// it cannot decode is refused with an error rather than shown with tokens
// left in.
func RedactRaw(raw []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := redactEntity(&out, raw, 0); err != nil {
		return nil, fmt.Errorf("%w: %w", errCannotRedact, err)
	}
	return out.Bytes(), nil
}

// redactEntity writes one MIME entity (headers, blank line, body) redacted.
func redactEntity(w *bytes.Buffer, entity []byte, depth int) error {
	if depth > 10 {
		return errors.New("multipart nesting too deep")
	}
	head, sep, body := splitHead(entity)
	var ctype, cte string
	for _, f := range headerFields(head) {
		value := unfold(f.value)
		switch strings.ToLower(f.name) {
		case "content-type":
			ctype = value
		case "content-transfer-encoding":
			cte = strings.ToLower(value)
		}
		if red := RedactText(value); red != value {
			w.WriteString(f.name + ": " + red + lineEnding(f.raw))
			continue
		}
		w.Write(f.raw)
	}
	w.Write(sep)
	return redactBody(w, body, ctype, cte, depth)
}

// redactBody writes an entity's body redacted according to its type.
func redactBody(w *bytes.Buffer, body []byte, ctype, cte string, depth int) error {
	if ctype == "" {
		ctype = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		return redactMultipart(w, body, params["boundary"], depth)
	case mt == "message/rfc822":
		return redactEntity(w, body, depth+1)
	}
	return redactLeaf(w, body, cte)
}

// redactLeaf decodes a part that is not multipart (text, and attachments
// too: an HTML file may travel as one), redacts it and, when something was
// replaced, encodes it again in the same transfer encoding.
func redactLeaf(w *bytes.Buffer, body []byte, cte string) error {
	switch cte {
	case "quoted-printable":
		dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return fmt.Errorf("quoted-printable part: %w", err)
		}
		red := RedactText(string(dec))
		if red == string(dec) {
			w.Write(body)
			return nil
		}
		qp := quotedprintable.NewWriter(w)
		// Text mode turns a lone CR into a line break, which could change
		// the message's structure; such text keeps its bytes encoded.
		qp.Binary = loneCR(red)
		if _, err := qp.Write([]byte(red)); err != nil {
			return err
		}
		return qp.Close()
	case "base64":
		dec, err := base64.StdEncoding.DecodeString(string(stripNewlines(body)))
		if err != nil {
			return fmt.Errorf("base64 part: %w", err)
		}
		red := RedactText(string(dec))
		if red == string(dec) {
			w.Write(body)
			return nil
		}
		writeBase64Lines(w, []byte(red))
		return nil
	}
	w.WriteString(RedactText(string(body)))
	return nil
}

// writeBase64Lines writes b in base64 lines of 76 characters (RFC 2045).
func writeBase64Lines(w *bytes.Buffer, b []byte) {
	enc := base64.StdEncoding.EncodeToString(b)
	for len(enc) > 76 {
		w.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	w.WriteString(enc + "\r\n")
}

// loneCR reports whether s has a carriage return not followed by a line feed.
func loneCR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			return true
		}
	}
	return false
}

func stripNewlines(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, b)
}
