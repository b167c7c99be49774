package segments

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// CheckCampaigns resolves the campaigns the rule's opened() and clicked()
// name, when a segment is saved or previewed: an id or a name that matches
// no campaign, or a name that several campaigns have, is an *errs.Error
// (errs.Invalid, Field "rule") at the argument's position. Later renames
// do not break a saved segment: a name that matches nothing then matches
// no contact.
func (c *Compiled) CheckCampaigns(ctx context.Context, db DBTX) error {
	if len(c.refs) == 0 {
		return nil
	}
	var ids []int64
	var names []string
	for _, r := range c.refs {
		if r.name != "" {
			names = append(names, r.name)
		} else {
			ids = append(ids, r.id)
		}
	}
	rows, err := db.Query(ctx, queries.Get("campaign_refs"), ids, names)
	if err != nil {
		return fmt.Errorf("check campaigns: %w", err)
	}
	type camp struct {
		ID   int64
		Name string
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[camp])
	if err != nil {
		return fmt.Errorf("check campaigns: %w", err)
	}
	for _, r := range c.refs {
		var match []string
		for _, k := range found {
			if (r.name != "" && k.Name == r.name) || (r.name == "" && k.ID == r.id) {
				match = append(match, "#"+strconv.FormatInt(k.ID, 10))
			}
		}
		switch {
		case len(match) == 0 && r.name != "":
			return placed(c.Rule, r.node, "no campaign is named %q", r.name)
		case len(match) == 0:
			return placed(c.Rule, r.node, "there is no campaign #%d", r.id)
		case len(match) > 1:
			return placed(c.Rule, r.node, "%d campaigns are named %q (%s): use the id of the one you mean", len(match), r.name,
				strings.Join(match, ", "))
		}
	}
	return nil
}
