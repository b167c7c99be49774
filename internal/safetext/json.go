package safetext

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/peykar/peykar/internal/errs"
)

// nulEscape is how a NUL byte appears in valid JSON (a raw NUL is not
// valid JSON at all).
var nulEscape = []byte(`\u0000`)

// JSON checks a JSON document for strings and object keys holding a NUL
// byte. The error is an errs.Invalid whose field is the JSON path of the
// first one, such as name, attributes.city or steps[1].key. A document
// without the escape costs one byte scan; one that is not valid JSON is
// passed (nil), for the decoder to report.
func JSON(data []byte) error {
	if !bytes.Contains(data, nulEscape) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var w jsonWalk
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // malformed: the decoder that follows says where
		}
		if err := w.token(tok); err != nil {
			return err
		}
	}
}

// jsonWalk follows the path of the token stream.
type jsonWalk struct{ stack []jsonFrame }

// jsonFrame is one open object or array.
type jsonFrame struct {
	object  bool
	wantKey bool   // object: the next string is a key
	key     string // object: the current member
	index   int    // array: the current element
}

func (w *jsonWalk) token(tok json.Token) error {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			w.stack = append(w.stack, jsonFrame{object: true, wantKey: true})
		case '[':
			w.stack = append(w.stack, jsonFrame{})
		default: // '}' or ']': the container is the parent's finished value
			w.stack = w.stack[:len(w.stack)-1]
			w.next()
		}
	case string:
		if n := len(w.stack); n > 0 && w.stack[n-1].object && w.stack[n-1].wantKey {
			w.stack[n-1].key, w.stack[n-1].wantKey = t, false
			if HasNUL(t) {
				w.stack[n-1].key = ShowKey(t)
				return errs.Field(w.path(), NULKeyMessage)
			}
			return nil
		}
		if HasNUL(t) {
			return errs.Field(w.path(), NULMessage)
		}
		w.next()
	default:
		w.next()
	}
	return nil
}

// next moves past a finished value.
func (w *jsonWalk) next() {
	if n := len(w.stack); n > 0 {
		if w.stack[n-1].object {
			w.stack[n-1].wantKey = true
		} else {
			w.stack[n-1].index++
		}
	}
}

// path is the current value's path: keys joined by dots, indexes in
// brackets.
func (w *jsonWalk) path() string {
	var b []byte
	for _, f := range w.stack {
		if f.object {
			if len(b) > 0 {
				b = append(b, '.')
			}
			b = append(b, f.key...)
		} else {
			b = fmt.Appendf(b, "[%d]", f.index)
		}
	}
	return string(b)
}
