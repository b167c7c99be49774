// Package analytics scores customers and campaigns: RFM quintiles and named
// RFM segments, a customer value estimate, churn risk, the likelihood of
// responding to a campaign (a Beta-Binomial model with an honest hold-out
// evaluation), k-means clusters with plain-words descriptions, and anomaly
// flags on campaign metrics.
//
// Everything per contact is computed set-based in PostgreSQL (INSERT …
// SELECT … ON CONFLICT DO UPDATE into contact_scores) so a recompute never
// loads the contact base into memory; only k-means fits in Go, on a bounded
// sample, and its centroids go back to SQL as parameters to assign every
// contact. The formulas are documented in docs/analytics.md.
//
// Segments read the scores as rfm.recency, rfm.frequency, rfm.monetary,
// rfm.segment, rfm.value, churn.risk, response.likelihood and cluster.id.
//
// Tables: it is the only writer of contact_scores, clusters,
// response_models and campaign_anomalies; it reads contacts,
// transactions, campaigns, deliveries and the rollups. Its static queries
// are in queries.sql; the statements built from feature lists (scores,
// cluster assignment, the response model) are in Go. The recompute runs
// as a River job (worker.go); routes.go serves the read API.
package analytics
