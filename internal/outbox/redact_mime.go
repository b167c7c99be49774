package outbox

import (
	"bytes"
	"errors"
	"strings"
)

// headerField is one header field as received: its name, its value (still
// folded) and the raw lines it spans.
type headerField struct {
	name, value string
	raw         []byte
}

// splitHead splits an entity at the first empty line into the header block,
// the empty line itself and the body. An entity without one is all header.
func splitHead(entity []byte) (head, sep, body []byte) {
	if bytes.HasPrefix(entity, []byte("\r\n")) {
		return nil, entity[:2], entity[2:]
	}
	if bytes.HasPrefix(entity, []byte("\n")) {
		return nil, entity[:1], entity[1:]
	}
	crlf := bytes.Index(entity, []byte("\r\n\r\n"))
	lf := bytes.Index(entity, []byte("\n\n"))
	switch {
	case crlf >= 0 && (lf < 0 || crlf < lf):
		return entity[:crlf+2], entity[crlf+2 : crlf+4], entity[crlf+4:]
	case lf >= 0:
		return entity[:lf+1], entity[lf+1 : lf+2], entity[lf+2:]
	}
	return entity, nil, nil
}

// headerFields splits a header block into fields; a line that starts with
// a space or tab continues the field before it.
func headerFields(head []byte) []headerField {
	var fields []headerField
	for _, line := range lines(head) {
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			f := &fields[len(fields)-1]
			f.value += string(line)
			f.raw = append(f.raw, line...)
			continue
		}
		name, value, _ := strings.Cut(string(line), ":")
		fields = append(fields, headerField{name: strings.TrimSpace(name), value: value, raw: append([]byte(nil), line...)})
	}
	return fields
}

// unfold joins a folded header value into one line.
func unfold(v string) string {
	v = strings.ReplaceAll(v, "\r\n", "")
	return strings.TrimSpace(strings.ReplaceAll(v, "\n", ""))
}

// lines splits b after each line feed, keeping the line endings.
func lines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			out = append(out, b)
			break
		}
		out = append(out, b[:i+1])
		b = b[i+1:]
	}
	return out
}

func lineEnding(raw []byte) string {
	if bytes.HasSuffix(raw, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// redactMultipart redacts each part of a multipart body and keeps the
// preamble, delimiter lines and epilogue byte for byte.
func redactMultipart(w *bytes.Buffer, body []byte, boundary string, depth int) error {
	if boundary == "" {
		return errors.New("multipart without a boundary")
	}
	dash := "--" + boundary
	partStart := -1 // start of the current part's content; -1 in the preamble
	pos := 0
	for _, line := range lines(body) {
		lineStart := pos
		pos += len(line)
		text := strings.TrimRight(string(line), " \t\r\n")
		if text != dash && text != dash+"--" {
			continue
		}
		// The line break before a delimiter belongs to the delimiter.
		end := lineStart
		if end > 0 && body[end-1] == '\n' {
			end--
			if end > 0 && body[end-1] == '\r' {
				end--
			}
		}
		if partStart < 0 {
			w.WriteString(RedactText(string(body[:end])))
		} else if err := redactEntity(w, body[partStart:max(end, partStart)], depth+1); err != nil {
			return err
		}
		w.Write(body[max(end, partStart):pos])
		if text == dash+"--" {
			w.WriteString(RedactText(string(body[pos:])))
			return nil
		}
		partStart = pos
	}
	if partStart < 0 {
		return errors.New("multipart body without its boundary")
	}
	return redactEntity(w, body[partStart:], depth+1) // no closing delimiter
}
