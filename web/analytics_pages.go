package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/peykar/peykar/campaigns/analytics"
)

func (u *UI) analyticsRoutes(g *echo.Group) {
	g.GET("/analytics", u.analyticsPage)
}

// analyticsListLength is how many contacts each of the four questions lists.
const analyticsListLength = 10

// rfmRow is one recency row of the R × F grid (recency 5 first).
type rfmRow struct {
	Recency int
	Cells   []rfmCell
}

// rfmCell is a grid cell with its shade: "hot" from half the fullest
// cell's count, "warm" when it has anyone.
type rfmCell struct {
	analytics.GridCell
	Level string
}

// analyticsPage shows the last recompute: the four questions, the RFM grid,
// the clusters, the response models' evaluation and the anomaly flags, all
// read with the functions behind /api/v1/analytics.
func (u *UI) analyticsPage(c echo.Context) error {
	ctx := c.Request().Context()
	db := u.readDB(ctx)
	sum, err := analytics.GetSummary(ctx, db, analyticsListLength)
	if err != nil {
		return err
	}
	grid, err := analytics.GetRFMGrid(ctx, db)
	if err != nil {
		return err
	}
	clusters, err := analytics.ListClusters(ctx, db)
	if err != nil {
		return err
	}
	models, err := analytics.ListModels(ctx, db)
	if err != nil {
		return err
	}
	anomalies, err := analytics.ListAnomalies(ctx, db, 0)
	if err != nil {
		return err
	}
	var rows []rfmRow
	var buyers, peak int64
	for _, cell := range grid.Cells { // 25 cells, recency 5 first, frequency 1…5
		if len(rows) == 0 || rows[len(rows)-1].Recency != cell.Recency {
			rows = append(rows, rfmRow{Recency: cell.Recency})
		}
		rows[len(rows)-1].Cells = append(rows[len(rows)-1].Cells, rfmCell{GridCell: cell})
		buyers += cell.Count
		peak = max(peak, cell.Count)
	}
	for _, r := range rows {
		for i := range r.Cells {
			switch n := r.Cells[i].Count; {
			case n > 0 && 2*n >= peak:
				r.Cells[i].Level = "hot"
			case n > 0:
				r.Cells[i].Level = "warm"
			}
		}
	}
	questions := []struct {
		Key    string
		Ranked analytics.Ranked
	}{
		{"most_valuable", sum.MostValuable},
		{"loyal", sum.Loyal},
		{"churn_risk", sum.ChurnRisk},
		{"likely_responders", sum.LikelyResponders},
	}
	return u.render(c, http.StatusOK, "analytics", pageData{Nav: "analytics", Data: map[string]any{
		"Summary": sum, "Questions": questions, "Grid": grid, "Rows": rows, "Buyers": buyers,
		"Clusters": clusters, "Features": analytics.Features, "Models": models, "Anomalies": anomalies,
	}})
}
