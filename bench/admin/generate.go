package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/peykar/peykar/bench/internal/benchgen"
)

// contactsSQL inserts $1 contacts with attributes (city, plan, age,
// signup_channel), tags drawn from six, behavioural stats and about 3%
// unsubscribed or bounced. Values come from a multiplicative hash of the
// row number, so a run is repeatable. The counters written per message
// and per event go to contact_stats (migration 048).
const contactsSQL = `WITH d AS (
	SELECT g, h, s, o, cl, cv,
		'user' || g || '@' || (ARRAY['gmail.com','yahoo.com','outlook.com','shop.example','mail.example.org','fastmail.com'])[1 + g % 6] AS email
	FROM (SELECT g, h, s, o, LEAST(o, (h / 1999) % 4) AS cl, ((h / 7001) % 10 = 0)::int AS cv
		FROM (SELECT g, h, s, LEAST(s, (h / 21) % 9) AS o
			FROM (SELECT g, h, h % 21 AS s FROM (SELECT g, (g::bigint * 2654435761) % 4294967291 AS h FROM generate_series(1, $1::int) g) a) b) c) x),
ins AS (INSERT INTO contacts (email, name, attributes, tags, consent_source, created_at,
		conversions, revenue, last_purchase_at, status)
	SELECT email,
		(ARRAY['Sara','Ali','Maryam','Reza','Anna','Jonas','Léa','Tom','Narges','Omid'])[1 + (g / 7) % 10] || ' ' || chr(65 + ((g / 70) % 26)::int) || '.',
		jsonb_build_object('city', (ARRAY['Tehran','Shiraz','Isfahan','Tabriz','Mashhad','Berlin','Hamburg','Paris','Lyon','London'])[1 + ((h / 3) % 10)::int],
			'plan', (ARRAY['free','free','free','pro','team'])[1 + ((h / 31) % 5)::int], 'age', 18 + (h / 157) % 60,
			'signup_channel', (ARRAY['web','app','store'])[1 + ((h / 9431) % 3)::int]),
		ARRAY(SELECT t FROM unnest(ARRAY['vip','newsletter','promo','beta','churn-risk','wholesale']) WITH ORDINALITY u(t, i)
			WHERE (h >> (2 * i::int)) & 3 = 0),
		'import', now() - (h % 365) * interval '1 day',
		cv, cv * ((h / 7560) % 300),
		CASE WHEN cv > 0 THEN now() - ((h / 17) % 365) * interval '1 day' END,
		CASE WHEN h % 100 < 2 THEN 'unsubscribed' WHEN h % 100 = 2 THEN 'bounced' ELSE 'active' END
	FROM d RETURNING id, email)
INSERT INTO contact_stats (contact_id, sent, opens, clicks, last_open_at, last_click_at)
SELECT ins.id, d.s, d.o, d.cl,
	CASE WHEN d.o > 0 THEN now() - ((d.h / 11) % 120) * interval '1 day' END,
	CASE WHEN d.cl > 0 THEN now() - ((d.h / 13) % 120) * interval '1 day' END
FROM ins JOIN d USING (email)`

// generate fills the database: n contacts, suppressions (one domain, a
// few addresses) and three finished campaigns whose deliveries go to the
// last n/2, n/4 and n/8 contacts, with two events per delivery.
func generate(ctx context.Context, pool *pgxpool.Pool, n int) error {
	t0 := time.Now()
	if _, err := pool.Exec(ctx, contactsSQL, n); err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO suppressions (kind, value, reason) VALUES ('domain', 'mail.example.org', 'bench')`); err != nil {
		return fmt.Errorf("suppressions: %w", err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO suppressions (kind, value, reason)
		SELECT 'address', 'user' || g || '@gmail.com', 'bench' FROM generate_series(6, $1::bigint, 600) g`, n); err != nil {
		return fmt.Errorf("suppressions: %w", err)
	}
	fmt.Printf("generated %d contacts in %s\n", n, time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	for i, name := range []string{"Spring sale", "Newsletter June", "Win-back"} {
		d := n >> (i + 1)
		if _, err := benchgen.Campaign(ctx, pool, name, d, 2*d, n-d, false); err != nil {
			return err
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("vacuum: %w", err)
	}
	var size string
	if err := pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database()))`).Scan(&size); err != nil {
		return err
	}
	fmt.Printf("generated 3 finished campaigns (%d, %d, %d deliveries; events twice that) in %s; database %s\n",
		n/2, n/4, n/8, time.Since(t0).Round(time.Millisecond), size)
	return nil
}
