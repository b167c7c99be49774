package web

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCodeIsolatedFromBidi(t *testing.T) {
	t.Parallel()
	require.Equal(t, `مثلاً <code class="mono" dir="ltr">ctr &gt;= 0.05</code>.`, string(withCode("مثلاً `ctr >= 0.05`.")))
	require.Equal(t, `a &lt;b&gt;`, string(withCode("a <b>")))
	require.Equal(t, `سلام <bdi class="mono" dir="ltr">{{ .Contact.Name }}</bdi>!`, string(isolateActions("سلام {{ .Contact.Name }}!")))
	require.Equal(t, `&lt;script&gt; <bdi class="mono" dir="ltr">{{ &#34;&lt;&#34; }}</bdi>`, string(isolateActions(`<script> {{ "<" }}`)))
	require.Equal(t, `no actions`, string(isolateActions("no actions")))
}

// TestCatalogueCodeIsQuoted: a message that shows code quotes it, in both
// languages alike, so the page can isolate it.
func TestCatalogueCodeIsQuoted(t *testing.T) {
	t.Parallel()
	en, err := loadCatalogue("en")
	require.NoError(t, err)
	fa, err := loadCatalogue("fa")
	require.NoError(t, err)
	for id, s := range en {
		require.Equal(t, codeSpan.FindAllString(s, -1), codeSpan.FindAllString(fa[id], -1), "%s: the same code, quoted, in both languages", id)
	}
}
