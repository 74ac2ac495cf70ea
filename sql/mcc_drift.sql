-- 跳码: merchants whose sales were cleared under another MCC than the one they registered, with
-- the share of their transactions each cleared MCC took. Registered: the MCC in the merchant
-- code (digits 8-11 of the 15-digit code), else the terminal leg's MCC field; cleared: the
-- network leg's MCC where the legs were joined, else the MCC field as sent.
SELECT
    merchant_id,
    registered_mcc,
    cleared_mcc,
    transactions,
    CAST(transactions AS DOUBLE) / CAST(merchant_transactions AS DOUBLE) AS share
FROM (
    SELECT
        merchant_id,
        registered_mcc,
        cleared_mcc,
        COUNT(*) AS transactions,
        SUM(COUNT(*)) OVER (PARTITION BY merchant_id) AS merchant_transactions
    FROM (
        SELECT
            merchant_id,
            COALESCE(mcc_from_code, mcc) AS registered_mcc,
            COALESCE(network_mcc, mcc) AS cleared_mcc
        FROM transactions
        WHERE merchant_id IS NOT NULL
    ) AS t
    WHERE cleared_mcc IS NOT NULL
    GROUP BY merchant_id, registered_mcc, cleared_mcc
) AS by_mcc
WHERE registered_mcc IS NOT NULL
  AND cleared_mcc <> registered_mcc
ORDER BY share DESC, merchant_id, cleared_mcc
