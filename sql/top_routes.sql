-- The routes money takes (二清 shows as unexpected forwarders): acquirer and forwarding
-- institution pairs by transactions, with the amount and the merchants behind each.
SELECT
    acquirer_id,
    forwarder_id,
    COUNT(*) AS transactions,
    SUM(amount_fen) AS amount_fen,
    COUNT(DISTINCT merchant_id) AS merchants,
    COUNT(DISTINCT network_merchant_id) AS network_merchants
FROM transactions
GROUP BY acquirer_id, forwarder_id
ORDER BY transactions DESC, acquirer_id, forwarder_id
LIMIT 50
