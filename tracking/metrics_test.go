package tracking

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCountsKnowsEveryMetric: each Metric constant of the package is
// counted by Counts.Add, so a new metric cannot be left out of the one
// place reports read metric names.
func TestCountsKnowsEveryMetric(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	metrics := map[string]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "Metric") && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						v, _ := strconv.Unquote(lit.Value)
						metrics[name.Name] = v
					}
				}
			}
			return true
		})
	}
	require.Greater(t, len(metrics), 20)
	for name, m := range metrics {
		if name == "MetricRevenueIn" {
			m += "EUR"
		}
		var c Counts
		c.Add(m, false, 1, 1)
		require.False(t, reflect.DeepEqual(c, Counts{}), "Counts.Add ignores %s (%q)", name, m)
	}
}

func TestCountsSplitsMachines(t *testing.T) {
	t.Parallel()
	var c Counts
	c.Add(MetricOpens, false, 3, 0)
	c.Add(MetricOpens, true, 2, 0)
	c.Add(MetricSent, false, 10, 0)
	c.Add(MetricSendBounced, false, 1, 0)
	c.Add(MetricBounces, false, 2, 0)
	c.Add(MetricRevenueIn+"EUR", false, 1, 9.5)
	c.Add(MetricRevenue, false, 1, 9.5)
	c.Add("no_such_metric", false, 1, 1)
	require.Equal(t, Split{Human: 3, Total: 5}, c.Opens)
	require.Equal(t, int64(11), c.AllSent())
	require.Equal(t, int64(3), c.AllBounced())
	require.Equal(t, map[string]float64{"EUR": 9.5}, c.RevenueIn)
	require.Equal(t, 9.5, c.Revenue)
}
