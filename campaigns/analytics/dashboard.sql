-- The analytics package's statements for the admin dashboard.

-- name: churn_at_risk
-- Customers at churn risk, as the summary's churn list selects them
-- (churnAtRiskWhere): churn risk at least $1 and some value; with their
-- value at risk and when the scores were computed.
SELECT count(*), coalesce(sum(s.value * s.churn_risk), 0)::float8, max(s.computed_at)
FROM contact_scores s JOIN contacts c ON c.id = s.contact_id
WHERE s.churn_risk >= $1 AND s.value > 0;
