package engine

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wneessen/go-mail"
)

// bodyCases are parts whose encoding has edges: long lines (soft breaks),
// CRLF, bare CR and LF, trailing blanks (encoded at a line's end),
// multibyte UTF-8, "=" and dots at line starts.
var bodyCases = []string{
	"",
	"Hello",
	"سلام سارا، حراج بهار شروع شد و این خط آن‌قدر بلند است که باید با یک شکست نرم quoted-printable شکسته شود.",
	strings.Repeat("x", 200) + "\r\n" + strings.Repeat("é", 90),
	"trailing blanks   \r\nand tabs\t\t\nbare LF\nbare CR\rend \t",
	".a dot at the start\r\n..two\r\n.\r\nx=y =3D\r\n",
	"<p><a href=\"https://peykar.example/t/c/AbC-_\">Pricing</a></p>\n" + strings.Repeat("<td style=\"padding:0 0 0 0\">·</td>", 40),
}

// TestBodyWriterMatchesString holds a message built with bodyWriter, its
// parts cut into chunks of any size, byte for byte to the same message
// built with SetBodyString and AddAlternativeString.
func TestBodyWriterMatchesString(t *testing.T) {
	t.Parallel()
	build := func(text, html string, chunk int) []byte {
		m := mail.NewMsg(mail.WithBoundary("BOUNDARY"))
		m.SetDate()
		m.SetGenHeader(mail.HeaderDate, "Sun, 01 Mar 2026 10:00:00 +0000")
		m.SetGenHeader(mail.HeaderMessageID, "<x@example.com>")
		if chunk == 0 {
			m.SetBodyString(mail.TypeTextPlain, text)
			m.AddAlternativeString(mail.TypeTextHTML, html)
		} else {
			m.SetBodyWriter(mail.TypeTextPlain, bodyWriter(text, chunk))
			m.AddAlternativeWriter(mail.TypeTextHTML, bodyWriter(html, chunk))
		}
		var b bytes.Buffer
		_, err := m.WriteTo(&b)
		require.NoError(t, err)
		return b.Bytes()
	}
	for _, text := range bodyCases {
		for _, html := range bodyCases {
			want := build(text, html, 0)
			for _, chunk := range []int{1, 2, 3, 7, 76, 77, bodyChunk} {
				require.Equal(t, string(want), string(build(text, html, chunk)), "chunk %d", chunk)
			}
		}
	}
}
