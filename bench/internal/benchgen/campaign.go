// Package benchgen generates benchmark data by SQL, for speed: finished
// campaigns with their deliveries, events and the rollups they imply.
package benchgen

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/tracking"
)

// Campaign inserts a finished campaign named name with n deliveries and m
// events spread over three days. With newContacts it first inserts n
// contacts numbered from offset; without, the deliveries go to the n
// contacts with the highest ids, and offset must be their lowest id minus
// one. It is followed by the rollups, aggregated by SQL from those rows,
// and their totals. About 2% of deliveries bounce at send time; events are
// 62% opens, 30% clicks over 5 links, 15% of both by machines, 0.5%
// unsubscribes, 0.5% complaints and 1% conversions.
func Campaign(ctx context.Context, pool *pgxpool.Pool, name string, n, m, offset int, newContacts bool) (int64, error) {
	var tplID, id int64
	steps := []string{
		`INSERT INTO templates (name, subject, html) VALUES ('bench', 'Hi', '<p>hi</p>') RETURNING id`,
	}
	if err := pool.QueryRow(ctx, steps[0]).Scan(&tplID); err != nil {
		return 0, fmt.Errorf("template: %w", err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO campaigns (name, status, from_email, launched_at, finished_at, launch_done, goals)
		VALUES ($1, 'finished', 'news@shop.example', now() - interval '3 days', now(), true,
			'[{"name":"engagement","when":"ctr >= 0.05 && conversions >= 100"},{"name":"opens","when":"open_rate >= 0.3"}]')
		RETURNING id`, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("campaign: %w", err)
	}
	stmts := []string{
		`INSERT INTO campaign_steps (campaign_id, key, position, template_id) VALUES (@campaign, 'main', 0, @tpl)`,
		`INSERT INTO campaign_links (campaign_id, step, idx, url, name)
			SELECT @campaign, 'main', i, 'https://shop.example/p/' || i, 'Link ' || i FROM generate_series(0, 4) i`,
		// Step 2 (skipped without newContacts).
		`INSERT INTO contacts (email, name, created_at)
			SELECT 'u' || (@offset + g) || '@example.com', 'User ' || (@offset + g), now() - interval '30 days' + (g % 43200) * interval '1 minute'
			FROM generate_series(1, @n) g`,
		`INSERT INTO deliveries (campaign_id, step, contact_id, status, attempts, queued_at, sent_at, bounced_at, response)
			SELECT @campaign, 'main', c.id, CASE WHEN c.id % 50 = 0 THEN 'bounced' ELSE 'sent' END, 1,
				now() - interval '3 days', s.at, CASE WHEN c.id % 50 = 0 THEN s.at END, '250 ok'
			FROM contacts c, LATERAL (SELECT now() - interval '3 days' + (c.id - @offset) * interval '7 milliseconds' AS at) s
			WHERE c.id > (SELECT coalesce(max(id), 0) FROM contacts) - @n`,
		// Events: each is drawn for a pseudo-random sent delivery, at a
		// decaying delay after its send.
		`INSERT INTO events (delivery_id, campaign_id, step, contact_id, type, link_idx, value, machine, occurred_at)
			SELECT d.id, @campaign, 'main', d.contact_id, k.type,
				CASE WHEN k.type = 'click' THEN (g / 7) % 5 END,
				CASE WHEN k.type = 'conversion' THEN 5 + (g % 200) ELSE 0 END,
				k.type IN ('open', 'click') AND g % 7 = 0,
				d.sent_at + interval '6 seconds' + ((g * 2654435761) % 1000)^3 / 1e9 * interval '3 days'
			FROM generate_series(1, @m::bigint) g
			JOIN deliveries d ON d.id = (SELECT min(id) FROM deliveries WHERE campaign_id = @campaign) + (g * 7919) % @n,
			LATERAL (SELECT CASE WHEN g % 200 < 124 THEN 'open' WHEN g % 200 < 184 THEN 'click' WHEN g % 200 = 184 THEN 'unsubscribe'
				WHEN g % 200 = 185 THEN 'complaint' WHEN g % 200 >= 196 THEN 'conversion' ELSE 'open' END AS type) k
			WHERE d.status = 'sent'`,
		`INSERT INTO transactions (contact_id, type, value, currency, campaign_id, delivery_id, occurred_at)
			SELECT contact_id, 'purchase', value, 'EUR', campaign_id, delivery_id, occurred_at FROM events WHERE campaign_id = @campaign AND type = 'conversion'`,
		// The rollups these rows imply, with tracking's semantics: per
		// minute, human/machine; unique rows count a recipient once, as human
		// when any of its events is human, else as machine.
		`INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count, value)
		SELECT @campaign, 'main', link_idx, metric, bucket, machine, sum(n), sum(v) FROM (
			SELECT -1 AS link_idx, 'deliveries' AS metric, date_trunc('minute', queued_at) AS bucket, false AS machine, count(*) AS n, 0::numeric AS v
				FROM deliveries WHERE campaign_id = @campaign GROUP BY 3
			UNION ALL SELECT -1, CASE WHEN status = 'sent' THEN 'sent' ELSE 'send_bounced' END, date_trunc('minute', sent_at), false, count(*), 0
				FROM deliveries WHERE campaign_id = @campaign GROUP BY 2, 3
			UNION ALL SELECT CASE WHEN type = 'click' THEN link_idx ELSE -1 END,
					CASE type WHEN 'open' THEN 'opens' WHEN 'click' THEN 'clicks' WHEN 'unsubscribe' THEN 'unsubscribes'
						WHEN 'complaint' THEN 'complaints' ELSE 'conversions' END,
					date_trunc('minute', occurred_at), machine, count(*), sum(value)
				FROM events WHERE campaign_id = @campaign GROUP BY 1, 2, 3, 4
			UNION ALL SELECT -1, 'revenue', date_trunc('minute', occurred_at), false, 0, sum(value)
				FROM events WHERE campaign_id = @campaign AND type = 'conversion' GROUP BY 3
			UNION ALL SELECT -1, CASE WHEN type = 'open' THEN 'unique_opens' ELSE 'unique_clicks' END,
					date_trunc('minute', coalesce(min(occurred_at) FILTER (WHERE NOT machine), min(occurred_at))), NOT bool_or(NOT machine), 1, 0
				FROM events WHERE campaign_id = @campaign AND type IN ('open', 'click') GROUP BY delivery_id, type
			UNION ALL SELECT link_idx, 'link_unique_clicks',
					date_trunc('minute', coalesce(min(occurred_at) FILTER (WHERE NOT machine), min(occurred_at))), NOT bool_or(NOT machine), 1, 0
				FROM events WHERE campaign_id = @campaign AND type = 'click' GROUP BY delivery_id, link_idx
			UNION ALL SELECT -1, 'converted', date_trunc('minute', min(occurred_at)), false, 1, 0
				FROM events WHERE campaign_id = @campaign AND type = 'conversion' GROUP BY delivery_id
		) x GROUP BY link_idx, metric, bucket, machine`,
		// The campaign-level people counters (step '') and the revenue in
		// its currency, which a report also reads. With one step a person
		// is a delivery, so they follow the step's unique counters (the
		// unsubscribe and complaint counts stand in for their people).
		`INSERT INTO rollups (campaign_id, step, link_idx, metric, bucket, machine, count, value)
		SELECT campaign_id, '', -1, m.metric, bucket, machine, sum(count), 0 FROM rollups
			CROSS JOIN LATERAL (VALUES
				(CASE WHEN rollups.metric IN ('sent', 'send_bounced') THEN 'people_sent' END),
				(CASE rollups.metric WHEN 'send_bounced' THEN 'people_bounced' WHEN 'unique_opens' THEN 'people_opens'
					WHEN 'unique_clicks' THEN 'people_clicks' WHEN 'unsubscribes' THEN 'people_unsubscribes'
					WHEN 'complaints' THEN 'people_complaints' WHEN 'converted' THEN 'people_converted' END)) m(metric)
			WHERE campaign_id = @campaign AND step = 'main' AND link_idx = -1 AND m.metric IS NOT NULL
			GROUP BY campaign_id, m.metric, bucket, machine
		UNION ALL SELECT campaign_id, step, -1, 'revenue:EUR', bucket, false, 0, value FROM rollups
			WHERE campaign_id = @campaign AND step = 'main' AND metric = 'revenue'`,
	}
	for i, s := range stmts {
		if i == 2 && !newContacts {
			continue
		}
		if _, err := pool.Exec(ctx, s, pgx.NamedArgs{"campaign": id, "n": n, "offset": offset, "tpl": tplID, "m": m}); err != nil {
			return 0, fmt.Errorf("generate step %d: %w", i, err)
		}
	}
	// Firsts and marks on the deliveries, as tracking keeps them.
	if _, err := pool.Exec(ctx, `UPDATE deliveries d SET first_open_at = e.fo, first_machine_open_at = e.fmo, first_click_at = e.fc,
			first_machine_click_at = e.fmc, unsubscribed_at = e.un, complained_at = e.co
		FROM (SELECT delivery_id, min(occurred_at) FILTER (WHERE type = 'open' AND NOT machine) fo, min(occurred_at) FILTER (WHERE type = 'open' AND machine) fmo,
				min(occurred_at) FILTER (WHERE type = 'click' AND NOT machine) fc, min(occurred_at) FILTER (WHERE type = 'click' AND machine) fmc,
				min(occurred_at) FILTER (WHERE type = 'unsubscribe') un, min(occurred_at) FILTER (WHERE type = 'complaint') co
			FROM events WHERE campaign_id = $1 GROUP BY delivery_id) e
		WHERE d.id = e.delivery_id`, id); err != nil {
		return 0, fmt.Errorf("generate firsts: %w", err)
	}
	// The rollups were loaded directly, not by tracking's writers: derive
	// their totals and hours as those writers would have kept them.
	if err := tracking.RebuildTotals(ctx, pool, id); err != nil {
		return 0, err
	}
	return id, nil
}
