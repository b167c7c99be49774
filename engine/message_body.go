package engine

import (
	"io"
	"sync"
)

// bodyChunk is how much of a rendered part bodyWriter hands go-mail's
// encoder at a time.
const bodyChunk = 4 << 10

var bodyChunks = sync.Pool{New: func() any { b := make([]byte, bodyChunk); return &b }}

// bodyWriter is the part's writer for go-mail (SetBodyWriter,
// AddAlternativeWriter): s goes to go-mail's encoder through a pooled
// buffer, chunk bytes at a time, instead of the copy of the whole part
// that SetBodyString and AddAlternativeString make per message. The
// encoders (quoted-printable, base64) are streams, so the bytes they write
// do not depend on how their input is cut (TestBodyWriterMatchesString).
func bodyWriter(s string, chunk int) func(io.Writer) (int64, error) {
	return func(w io.Writer) (int64, error) {
		bp := bodyChunks.Get().(*[]byte)
		defer bodyChunks.Put(bp)
		buf := (*bp)[:min(chunk, len(*bp))]
		var total int64
		for rest := s; rest != ""; {
			n := copy(buf, rest)
			rest = rest[n:]
			k, err := w.Write(buf[:n])
			total += int64(k)
			if err != nil {
				return total, err
			}
		}
		return total, nil
	}
}
