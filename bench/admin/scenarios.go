package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/campaigns/segments"
)

// bench holds what the scenarios share.
type bench struct {
	ctx      context.Context
	pool     *pgxpool.Pool
	srv      *server
	web      *http.Client // logged-in session
	n, runs  int
	results  []result
	failures []string
}

// benchSegment is a segment the bench creates, with the SQL that counts
// its members independently of peykar (the ground truth).
type benchSegment struct {
	name, rule, truth string
	id                int64
}

var benchSegments = []*benchSegment{
	{name: "Tehran engaged", rule: `contact.attributes.city == "Tehran" && stats.opens >= 3`,
		truth: `attributes->>'city' = 'Tehran' AND opens >= 3`},
	// A closure and arithmetic do not translate: evaluated in Go.
	{name: "News readers or active", rule: `any(contact.tags, {# startsWith "news"}) || stats.opens + stats.clicks > 9`,
		truth: `(EXISTS (SELECT 1 FROM unnest(tags) t WHERE t LIKE 'news%') OR opens + clicks > 9)`},
	{name: "VIP", rule: `has_tag("vip")`, truth: `'vip' = ANY(tags)`},
}

func (b *bench) api(method, path string, body any) (int, string, error) {
	return do(b.ctx, http.DefaultClient, method, b.srv.base+"/api/v1"+path, b.srv.token, body)
}

func (b *bench) add(r result, note string, args ...any) {
	r.note = fmt.Sprintf(note, args...)
	b.results = append(b.results, r)
	fmt.Printf("%s: median %s, p95 %s over %d runs; %s\n", r.name, ms(r.median), ms(r.p95), r.runs, r.note)
}

// check records a ground-truth comparison.
func (b *bench) check(what string, got, want int64) string {
	if got != want {
		b.failures = append(b.failures, fmt.Sprintf("%s: %d, expected %d", what, got, want))
		return fmt.Sprintf("MISMATCH %d ≠ %d", got, want)
	}
	return fmt.Sprintf("%s = %d ✓", what, got)
}

func (b *bench) all() error {
	for _, s := range benchSegments {
		code, body, err := b.api(http.MethodPost, "/segments", map[string]string{"name": s.name, "rule": s.rule})
		if err != nil || code != http.StatusCreated {
			return fmt.Errorf("create segment %q: %d %s %w", s.name, code, body, err)
		}
		var out struct{ ID int64 }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			return err
		}
		s.id = out.ID
	}
	for _, f := range []func() error{b.dashboard, b.contactList, b.segmentLists, b.builder, b.bulk} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) dashboard() error {
	r, _, err := timeRuns(b.runs, "GET /admin (dashboard)", nil, ok200(b.ctx, b.web, http.MethodGet, b.srv.base+"/admin", "", nil))
	if err != nil {
		return err
	}
	b.add(r, "")
	return nil
}

var totalAttr = regexp.MustCompile(`id="contacts-total" data-total="(\d+)"`)

func (b *bench) contactList() error {
	pageTotal := func(body string) int64 {
		m := totalAttr.FindStringSubmatch(body)
		if m == nil {
			return -1
		}
		v, _ := strconv.ParseInt(m[1], 10, 64)
		return v
	}
	r, body, err := timeRuns(b.runs, "GET /admin/contacts (total, no filter)", nil,
		ok200(b.ctx, b.web, http.MethodGet, b.srv.base+"/admin/contacts", "", nil))
	if err != nil {
		return err
	}
	var want int64
	if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM contacts`).Scan(&want); err != nil {
		return err
	}
	b.add(r, "%s", b.check("total", pageTotal(body), want))
	for _, s := range benchSegments[:2] {
		path := segPath(s.rule)
		r, body, err := timeRuns(b.runs, fmt.Sprintf("GET /admin/contacts?segment_id (%s segment)", path), nil,
			ok200(b.ctx, b.web, http.MethodGet, fmt.Sprintf("%s/admin/contacts?segment_id=%d", b.srv.base, s.id), "", nil))
		if err != nil {
			return err
		}
		if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM contacts WHERE status <> 'erased' AND `+s.truth).Scan(&want); err != nil {
			return err
		}
		b.add(r, "%s", b.check("total", pageTotal(body), want))
	}
	return nil
}

func segPath(rule string) string {
	c, err := segments.CompileSegment(rule)
	if err == nil && c.Translatable() {
		return "SQL"
	}
	return "Go"
}

// touchSegments changes each segment's rule text (not its meaning: it
// adds or removes parentheses), so the next list counts every segment
// afresh.
func (b *bench) touchSegments() error {
	for _, s := range benchSegments {
		if strings.HasPrefix(s.rule, "(") {
			s.rule = strings.TrimSuffix(strings.TrimPrefix(s.rule, "("), ")")
		} else {
			s.rule = "(" + s.rule + ")"
		}
		code, body, err := b.api(http.MethodPut, fmt.Sprintf("/segments/%d", s.id), map[string]string{"name": s.name, "rule": s.rule})
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("update segment: %d %s %w", code, body, err)
		}
	}
	return nil
}

func (b *bench) segmentLists() error {
	page := ok200(b.ctx, b.web, http.MethodGet, b.srv.base+"/admin/segments", "", nil)
	api := ok200(b.ctx, http.DefaultClient, http.MethodGet, b.srv.base+"/api/v1/segments", b.srv.token, nil)
	for _, x := range []struct {
		name string
		f    func() (string, error)
	}{{"GET /admin/segments", page}, {"GET /api/v1/segments", api}} {
		r, _, err := timeRuns(b.runs, x.name+" (cold: rules just changed)", b.touchSegments, x.f)
		if err != nil {
			return err
		}
		b.add(r, "%d segments counted", len(benchSegments))
		r, body, err := timeRuns(b.runs, x.name+" (cached)", nil, x.f)
		if err != nil {
			return err
		}
		note := ""
		if x.name == "GET /api/v1/segments" {
			note = b.checkListCounts(body)
		}
		b.add(r, "%s", note)
	}
	return nil
}

// checkListCounts compares GET /api/v1/segments's counts with SQL.
func (b *bench) checkListCounts(body string) string {
	var list struct {
		Items []struct {
			ID    int64  `json:"id"`
			Count *int64 `json:"count"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		return "unreadable list: " + err.Error()
	}
	var notes []string
	for _, it := range list.Items {
		for _, s := range benchSegments {
			if s.id != it.ID || it.Count == nil {
				continue
			}
			var want int64
			if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM contacts WHERE status <> 'erased' AND `+s.truth).Scan(&want); err != nil {
				return err.Error()
			}
			notes = append(notes, b.check(s.name+" count", *it.Count, want))
		}
	}
	return strings.Join(notes, ", ")
}

func (b *bench) builder() error {
	tree := map[string]any{"tree": map[string]any{"op": "all", "items": []any{
		map[string]any{"field": "contact.attributes.city", "cond": "is", "value": "Tehran"}}}}
	code, _, err := b.api(http.MethodPost, "/segments/builder/rule", tree)
	if err != nil {
		return err
	}
	if code == http.StatusNotFound {
		b.results = append(b.results, result{name: "POST /api/v1/segments/builder/rule", note: "not in this build (404)"})
		fmt.Println("POST /api/v1/segments/builder/rule: not in this build (404), skipped")
	}
	for _, s := range benchSegments[:2] {
		r, _, err := timeRuns(b.runs, fmt.Sprintf("POST /api/v1/segments/preview (%s rule)", segPath(s.rule)), nil,
			ok200(b.ctx, http.DefaultClient, http.MethodPost, b.srv.base+"/api/v1/segments/preview", b.srv.token, map[string]string{"rule": s.rule}))
		if err != nil {
			return err
		}
		b.add(r, "count and sample")
	}
	return nil
}

// bulkJob is GET /api/v1/bulk/{id}.
type bulkJob struct {
	Status   string `json:"status"`
	Total    *int64 `json:"total"`
	Done     int64  `json:"done"`
	Failed   int64  `json:"failed"`
	Download string `json:"download"`
	Error    string `json:"error"`
}

// runBulk posts a bulk action over every contact and polls it to the end.
func (b *bench) runBulk(action, tag string) (bulkJob, time.Duration, error) {
	t0 := time.Now()
	code, body, err := b.api(http.MethodPost, "/contacts/bulk", map[string]any{"filter": map[string]any{}, "action": action, "tag": tag})
	if err != nil || code != http.StatusAccepted {
		return bulkJob{}, 0, fmt.Errorf("bulk %s: %d %s %w", action, code, body, err)
	}
	var created struct{ ID int64 }
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		return bulkJob{}, 0, err
	}
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		code, body, err := b.api(http.MethodGet, fmt.Sprintf("/bulk/%d", created.ID), nil)
		if err != nil || code != http.StatusOK {
			return bulkJob{}, 0, fmt.Errorf("bulk status: %d %s %w", code, body, err)
		}
		var j bulkJob
		if err := json.Unmarshal([]byte(body), &j); err != nil {
			return bulkJob{}, 0, err
		}
		switch j.Status {
		case "finished":
			return j, time.Since(t0), nil
		case "failed", "cancelled":
			return j, 0, fmt.Errorf("bulk %s %s: %s", action, j.Status, j.Error)
		}
		time.Sleep(50 * time.Millisecond) // the poll interval, as the UI polls
	}
	return bulkJob{}, 0, fmt.Errorf("bulk %s: not finished after 30 minutes", action)
}

func (b *bench) bulk() error {
	j, took, err := b.runBulk("tag", "bench-all")
	if err != nil {
		return err
	}
	var tagged int64
	if err := b.pool.QueryRow(b.ctx, `SELECT count(*) FROM contacts WHERE 'bench-all' = ANY(tags)`).Scan(&tagged); err != nil {
		return err
	}
	b.results = append(b.results, result{name: "bulk tag, all contacts (202 → finished)", median: took, p95: took, runs: 1,
		note: fmt.Sprintf("%.0f contacts/s; %s; done %d, failed %d", float64(j.Done)/took.Seconds(), b.check("tagged", tagged, int64(b.n)), j.Done, j.Failed)})
	fmt.Printf("bulk tag: %s → %s\n", took.Round(time.Millisecond), b.results[len(b.results)-1].note)

	j, took, err = b.runBulk("export", "")
	if err != nil {
		return err
	}
	t0 := time.Now()
	code, body, err := do(b.ctx, http.DefaultClient, http.MethodGet, b.srv.base+j.Download, b.srv.token, nil)
	if err != nil || code != http.StatusOK {
		return fmt.Errorf("export download %q: %d %w", j.Download, code, err)
	}
	dl := time.Since(t0)
	rows := int64(strings.Count(body, "\n")) - 1 // less the header; no field holds a newline here
	b.results = append(b.results, result{name: "bulk export, all contacts (202 → finished)", median: took, p95: took, runs: 1,
		note: fmt.Sprintf("%.0f rows/s; %s; download %.1f MB in %s", float64(j.Done)/took.Seconds(), b.check("rows", rows, int64(b.n)),
			float64(len(body))/1e6, ms(dl))})
	fmt.Printf("bulk export: %s → %s\n", took.Round(time.Millisecond), b.results[len(b.results)-1].note)
	return nil
}
