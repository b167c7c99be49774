package mailer

import (
	"bufio"
	"bytes"
	"testing"
)

// writeDottedLineByLine is writeDotted as it was before runs of lines went
// out in one write: a line at a time, the reference the faster one must
// equal.
func writeDottedLineByLine(w *bufio.Writer, b []byte) {
	for len(b) > 0 {
		if b[0] == '.' {
			_ = w.WriteByte('.')
		}
		line := b
		i := bytes.IndexByte(b, '\n')
		if i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		_, _ = w.Write(line)
		_, _ = w.WriteString("\r\n")
	}
	_, _ = w.WriteString(".\r\n")
}

func dotted(write func(*bufio.Writer, []byte), b []byte) []byte {
	var out bytes.Buffer
	w := bufio.NewWriterSize(&out, 16) // small, so writes cross its boundary
	write(w, b)
	_ = w.Flush()
	return out.Bytes()
}

// FuzzWriteDotted holds writeDotted byte for byte to the line-at-a-time
// reference (dot-stuffing, bare LF and CR, a missing last line end), and
// the unstuffed form BDAT sends, copied or taken as it is (newChunked), to
// what a server stores of it.
func FuzzWriteDotted(f *testing.F) {
	for _, seed := range []string{
		"", ".", "\n", "\r\n", "a\r\nb\r\n", ".a\r\n..b\r\nc", "a\nb\n", "a\r\r\n.\r\n",
		"Subject: x\r\n\r\n=C2=B7 line\r\n.\r\nlast", "\r", "x\r", ".\n.\r\n.",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := dotted(writeDottedLineByLine, b)
		if got := dotted(writeDotted, b); !bytes.Equal(got, want) {
			t.Fatalf("writeDotted(%q) = %q, want %q", b, got, want)
		}
		// BDAT sends what a server stores of the DATA form: the lines
		// with the stuffed dot removed and without the final ".".
		var stored bytes.Buffer
		for _, line := range bytes.SplitAfter(bytes.TrimSuffix(want, []byte(".\r\n")), []byte("\r\n")) {
			stored.Write(bytes.TrimPrefix(line, []byte(".")))
		}
		var plain bytes.Buffer
		writeLines(&plain, b, false)
		if !bytes.Equal(plain.Bytes(), stored.Bytes()) {
			t.Fatalf("writeLines(%q, false) = %q, want %q", b, plain.Bytes(), stored.Bytes())
		}
		// The content BDAT sends, whether newChunked takes the built
		// message as it is or copies it through writeLines.
		c := newChunked(&prepared{body: bytes.NewBuffer(bytes.Clone(b))})
		if !bytes.Equal(c.content.Bytes(), plain.Bytes()) {
			t.Fatalf("newChunked(%q) content = %q, want %q", b, c.content.Bytes(), plain.Bytes())
		}
		c.release()
	})
}
