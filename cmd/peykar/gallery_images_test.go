package main

import (
	"io"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/peykar/peykar/internal/auth"
)

// TestGalleryImagesServedByPeykar: a starter template from the gallery
// points its images at Peykar's own public base URL, and a mail client
// (no login, no cookie) fetches each one as a small PNG.
func TestGalleryImagesServedByPeykar(t *testing.T) {
	t.Parallel()
	m := testMain(t)
	token := testToken(t, m, auth.RoleMarketer)
	for _, key := range []string{"newsletter", "announcement"} {
		for _, lang := range []string{"en", "fa"} {
			code, body := do(t, m, http.MethodGet, "/admin/templates/new?gallery="+key+"&lang="+lang, token, nil)
			require.Equal(t, http.StatusOK, code, body)
			require.NotContains(t, body, "placehold.co")
			want := m.Config.BaseURL + "/admin/assets/email/" + key + ".png"
			require.Contains(t, body, want)
			srcs := regexp.MustCompile(`src=&#34;(https?://[^&]+)&#34;`).FindAllStringSubmatch(body, -1)
			require.NotEmpty(t, srcs)
			for _, src := range srcs {
				require.Regexp(t, `^`+regexp.QuoteMeta(m.Config.BaseURL)+`/`, src[1], "every image is Peykar's own")
			}
			// The public base URL names this server (a test host name).
			resp, err := noRedirect.Get(m.URL() + "/admin/assets/email/" + key + ".png")
			require.NoError(t, err)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode, want)
			require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
			require.Empty(t, resp.Cookies())
			require.Less(t, len(b), 8<<10, "an optimised image")
			require.Equal(t, "\x89PNG", string(b[:4]))
		}
	}
}
