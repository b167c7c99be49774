package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAPIReference opens /admin/api logged in and waits for the
// vendored Redoc to render the document served by the API: the page's
// script, its content security policy and the authenticated fetch of
// /api/v1/openapi.json all work together.
func TestBrowserAPIReference(t *testing.T) {
	t.Parallel()
	ctx := browser(t)
	m := testMain(t, "PEYKAR_ADMIN_EMAIL", "admin@example.com", "PEYKAR_ADMIN_PASSWORD", "admin password 1")
	login(t, ctx, m, "admin@example.com", "admin password 1")
	steps(t, ctx,
		chromedp.Navigate(m.URL()+"/admin/api"),
		// Each tag lists its first operations (a tag with many shows "more…"),
		// and Redoc renders the tags in turn as the document grows: the first
		// tag's operations prove the fetched document rendered.
		waitJS(`document.body.innerText.includes("Peykar API") && document.body.innerText.includes("/contacts/{id}")`),
	)
}
