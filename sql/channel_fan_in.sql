-- Channel-merchant fan-in (二清, 跳码 through merchant pools): network merchants that cleared
-- the sales of several terminal merchants, across every ledger registered. The window is the
-- set of ledgers registered: register the days you want (a directory a day, the last 30 ...).
-- Threshold: 3 terminal merchants, as the audit's own rule.
SELECT
    network_merchant_id,
    COUNT(DISTINCT merchant_id) AS terminal_merchants,
    COUNT(*) AS transactions,
    COUNT(DISTINCT input) AS captures,
    MIN(capture_time) AS first_seen,
    MAX(capture_time) AS last_seen
FROM transactions
WHERE leg = 'terminal+network'
  AND network_merchant_id IS NOT NULL
  AND merchant_id IS NOT NULL
  AND network_merchant_id <> merchant_id
GROUP BY network_merchant_id
HAVING COUNT(DISTINCT merchant_id) >= 3
ORDER BY terminal_merchants DESC, network_merchant_id
