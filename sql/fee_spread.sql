-- 跳点 and 跳码 in money: the estimated fee spread (what the merchant's registered category
-- would have cost, less what was cleared) per merchant and acquirer and month, from the findings
-- that price an MCC change (each message priced once, however many rules report it).
SELECT
    t.merchant_id,
    t.acquirer_id,
    DATE_TRUNC('month', t.capture_time) AS month,
    COUNT(*) AS priced_messages,
    SUM(p.pre2016_fen) AS spread_pre2016_fen,
    SUM(p.post2016_fen) AS spread_post2016_fen
FROM (
    SELECT
        input,
        message_index AS message,
        MAX(fee_pre2016_fen) AS pre2016_fen,
        MAX(fee_post2016_fen) AS post2016_fen
    FROM findings
    WHERE fee_pre2016_fen IS NOT NULL
    GROUP BY input, message_index
) AS p
JOIN transactions AS t
  ON t.input = p.input
 AND (t.message_index = p.message OR t.network_index = p.message)
GROUP BY t.merchant_id, t.acquirer_id, DATE_TRUNC('month', t.capture_time)
ORDER BY spread_pre2016_fen DESC, t.merchant_id
