-- Channel-merchant rotation: terminal merchants whose sales were cleared under several network
-- merchants, across every ledger registered (the window: the ledgers registered).
-- Threshold: 3 network merchants, as the audit's own rule.
SELECT
    merchant_id,
    COUNT(DISTINCT network_merchant_id) AS network_merchants,
    COUNT(*) AS transactions,
    COUNT(DISTINCT input) AS captures,
    MIN(capture_time) AS first_seen,
    MAX(capture_time) AS last_seen
FROM transactions
WHERE leg = 'terminal+network'
  AND network_merchant_id IS NOT NULL
  AND merchant_id IS NOT NULL
  AND network_merchant_id <> merchant_id
GROUP BY merchant_id
HAVING COUNT(DISTINCT network_merchant_id) >= 3
ORDER BY network_merchants DESC, merchant_id
