package web

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEditorWords: every block of the visual editor (the newsletter
// preset's and Peykar's) and every category has a name in each language,
// and the Persian ones are not the English ones.
func TestEditorWords(t *testing.T) {
	t.Parallel()
	ids := []string{"sect100", "sect50", "sect30", "sect37", "button", "divider", "text", "text-sect", "image", "quote",
		"link", "link-block", "grid-items", "list-items", "heading", "spacer", "footer", "raw-html"}
	en, fa := editorWords(catalogueFor(t, "en")), editorWords(catalogueFor(t, "fa"))
	for _, id := range ids {
		require.NotEmpty(t, en["blocks"][id], id)
		require.NotEmpty(t, fa["blocks"][id], id)
		require.NotEqual(t, en["blocks"][id], fa["blocks"][id], id)
	}
	for _, c := range []string{"layout", "content", "advanced"} {
		require.NotEmpty(t, en["categories"][c], c)
		require.NotEqual(t, en["categories"][c], fa["categories"][c], c)
	}
	require.Equal(t, "Heading", en["blocks"]["heading"])
	require.Equal(t, "سرتیتر", fa["blocks"]["heading"])
}
