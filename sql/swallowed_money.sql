-- 吞钱: per terminal, the transactions whose money may have been taken without the merchant
-- being told: requests never answered, unanswered ones never reversed, approvals on the network
-- the terminal was told were declined, reversals not forwarded or refused.
SELECT
    terminal,
    SUM(CASE WHEN rule = 'no-response' THEN 1 ELSE 0 END) AS no_response,
    SUM(CASE WHEN rule = 'no-reversal-after-timeout' THEN 1 ELSE 0 END) AS not_reversed,
    SUM(CASE WHEN rule = 'approved-on-network-failed-on-terminal' THEN 1 ELSE 0 END) AS approved_not_told,
    SUM(CASE WHEN rule = 'reversal-not-forwarded' THEN 1 ELSE 0 END) AS reversal_not_forwarded,
    SUM(CASE WHEN rule = 'reversal-failed' THEN 1 ELSE 0 END) AS reversal_failed,
    COUNT(*) AS total
FROM findings
WHERE rule IN ('no-response', 'no-reversal-after-timeout',
               'approved-on-network-failed-on-terminal', 'reversal-not-forwarded',
               'reversal-failed')
  AND terminal IS NOT NULL
GROUP BY terminal
ORDER BY total DESC, terminal
