package tracking

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// Report is what a bounce (RFC 3464 DSN) or a complaint (RFC 5965 ARF
// feedback report) says.
type Report struct {
	// Type is hard (a 5.x.x permanent failure), soft (4.x.x or delayed),
	// complaint, or "" when the message reports nothing actionable (a
	// success notice, an auto-reply).
	Type       string
	Status     string // the enhanced status code, e.g. 5.1.1
	Diagnostic string // Diagnostic-Code, or the feedback type
	Recipient  string // Final-Recipient / Original-Rcpt-To
	// ReturnPaths are the VERP-looking addresses (bounce+…@) found in the
	// original message's headers, to find the delivery when the report was
	// not sent to the VERP address itself (complaint feedback loops).
	ReturnPaths []string
}

var (
	statusRE = regexp.MustCompile(`\b([245])\.\d{1,3}\.\d{1,3}\b`)
	verpRE   = regexp.MustCompile(`(?i)bounce\+[a-z2-7]+@[a-z0-9.\-]+`)
)

// ParseReport reads one message and reports the bounce or complaint in it.
// A message that is not a report answers a Report with an empty Type.
func ParseReport(r io.Reader) (Report, error) {
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return Report{}, fmt.Errorf("tracking: parse report: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		body, _ := io.ReadAll(io.LimitReader(msg.Body, 1<<20))
		return plainBounce(msg.Header, body), nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var rep Report
	var text []byte
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Report{}, fmt.Errorf("tracking: parse report: %w", err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		body, err := io.ReadAll(io.LimitReader(p, 1<<20))
		if err != nil {
			return Report{}, fmt.Errorf("tracking: parse report: %w", err)
		}
		switch pt {
		case "message/delivery-status", "message/global-delivery-status":
			rep = mergeDSN(rep, body)
		case "message/feedback-report":
			rep = feedback(rep, body)
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
			rep.ReturnPaths = append(rep.ReturnPaths, verpRE.FindAllString(string(headerPart(body)), -1)...)
		case "text/plain":
			if text == nil {
				text = body
			}
		}
	}
	if rep.Type == "" && params["report-type"] == "" && text != nil {
		r := plainBounce(msg.Header, text)
		r.ReturnPaths = append(r.ReturnPaths, rep.ReturnPaths...)
		return r, nil
	}
	return rep, nil
}

// mergeDSN reads a message/delivery-status body: a per-message block, then
// one block per recipient. The most severe recipient result wins.
func mergeDSN(rep Report, body []byte) Report {
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
	for {
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 {
			action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
			status := statusRE.FindString(h.Get("Status"))
			typ := ""
			switch {
			case action == "failed" && strings.HasPrefix(status, "4"):
				typ = BounceSoft
			case action == "failed":
				typ = BounceHard
			case action == "delayed":
				typ = BounceSoft
			}
			if typ != "" && severity(typ) > severity(rep.Type) {
				rep.Type, rep.Status = typ, status
				rep.Diagnostic = strings.TrimSpace(h.Get("Diagnostic-Code"))
				rep.Recipient = addressOf(h.Get("Final-Recipient"))
				if rep.Recipient == "" {
					rep.Recipient = addressOf(h.Get("Original-Recipient"))
				}
			}
		}
		if err != nil {
			return rep
		}
	}
}

func severity(t string) int {
	return map[string]int{BounceSoft: 1, BounceHard: 2, BounceComplaint: 3}[t]
}

// feedback reads a message/feedback-report body (RFC 5965).
func feedback(rep Report, body []byte) Report {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(body, '\r', '\n')))).ReadMIMEHeader()
	ft := strings.ToLower(strings.TrimSpace(h.Get("Feedback-Type")))
	switch ft {
	case "abuse", "fraud", "virus", "other", "":
		rep.Type, rep.Diagnostic = BounceComplaint, "feedback-type: "+ft
	default: // not-spam, auth-failure: not a complaint about us
		return rep
	}
	rep.Recipient = addressOf(h.Get("Original-Rcpt-To"))
	if rep.Recipient == "" {
		rep.Recipient = addressOf(h.Get("Removal-Recipient"))
	}
	return rep
}

// plainBounce handles non-standard bounces: a status code in the text
// decides, when the message looks like a bounce at all.
func plainBounce(h mail.Header, body []byte) Report {
	from := strings.ToLower(h.Get("From"))
	subj := strings.ToLower(h.Get("Subject"))
	if !strings.Contains(from, "mailer-daemon") && !strings.Contains(from, "postmaster") &&
		!strings.Contains(subj, "undeliver") && !strings.Contains(subj, "delivery status") && !strings.Contains(subj, "failure") {
		return Report{}
	}
	rep := Report{ReturnPaths: verpRE.FindAllString(string(body), -1)}
	if st := statusRE.FindString(string(body)); st != "" {
		rep.Status = st
		switch st[0] {
		case '5':
			rep.Type = BounceHard
		case '4':
			rep.Type = BounceSoft
		}
	}
	return rep
}

// headerPart is the header section of an embedded message.
func headerPart(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return b[:i]
	}
	return b
}

// addressOf reads "rfc822; someone@example.com".
func addressOf(v string) string {
	if _, addr, ok := strings.Cut(v, ";"); ok {
		v = addr
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}
