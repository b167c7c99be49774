package demo

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/peykar/peykar/internal/outbox"
)

// step kinds of a caught message, told apart by subject.
const (
	stepMain   = "main"
	stepOffer  = "offer"
	stepResend = "resend"
)

// caught is what the simulator needs of one caught message: who it went to,
// which step it is, when it arrived and its tracked URLs (paths only: the
// simulator sends them to its own server whatever the public base URL is).
type caught struct {
	ID       int64
	To       string
	Step     string
	Received time.Time
	Pixel    string   // /t/o/{token}.gif
	Links    []string // /t/c/{token}, in document order (the first is the pricing page)
	Unsub    string   // /t/u/{token}, from List-Unsubscribe
}

var (
	pixelRe = regexp.MustCompile(`src="([^"]*/t/o/[^"]+)"`)
	linkRe  = regexp.MustCompile(`href="([^"]*/t/c/[^"]+)"`)
	unsubRe = regexp.MustCompile(`<([^>]*/t/u/[^>]+)>`)
)

// pathOf keeps a tracked URL's path and query.
func pathOf(raw string) string {
	u, err := url.Parse(html.UnescapeString(raw))
	if err != nil {
		return ""
	}
	if u.RawQuery != "" {
		return u.EscapedPath() + "?" + u.RawQuery
	}
	return u.EscapedPath()
}

// stepOf tells the demo campaign's steps apart by their subjects.
func stepOf(subject string) string {
	switch {
	case strings.Contains(subject, markMain):
		return stepMain
	case strings.Contains(subject, markResend):
		return stepResend
	case strings.Contains(subject, markOffer):
		return stepOffer
	}
	return ""
}

// parseCaught extracts the tracked URLs of a message read with Store.Get.
func parseCaught(m outbox.Message) caught {
	c := caught{ID: m.ID, Step: stepOf(m.Subject), Received: m.ReceivedAt}
	if len(m.To) > 0 {
		c.To = m.To[0]
	}
	if p := pixelRe.FindStringSubmatch(m.HTML); p != nil {
		c.Pixel = pathOf(p[1])
	}
	for _, l := range linkRe.FindAllStringSubmatch(m.HTML, -1) {
		c.Links = append(c.Links, pathOf(l[1]))
	}
	for _, h := range m.Headers["List-Unsubscribe"] {
		if u := unsubRe.FindStringSubmatch(h); u != nil {
			c.Unsub = pathOf(u[1])
		}
	}
	return c
}

// newMessages lists the messages caught after id last, oldest first.
func newMessages(ctx context.Context, store outbox.Store, last int64) ([]outbox.Message, error) {
	var out []outbox.Message
	after := int64(0)
	for {
		page, err := store.List(ctx, "", after, 500)
		if err != nil {
			return nil, err
		}
		done := len(page) < 500
		for _, m := range page {
			if m.ID <= last {
				done = true
				break
			}
			out = append(out, m)
			after = m.ID
		}
		if done {
			break
		}
	}
	slices.Reverse(out)
	return out, nil
}
