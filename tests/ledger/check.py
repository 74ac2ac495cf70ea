"""Reads a ledger directory with DuckDB and runs the fleet queries on it.

    python3 tests/ledger/check.py LEDGER_DIR SQL_DIR

Prints one JSON object: the row count of each table, the rows of `transactions` (a few
columns, to compare with the audit), and each query's result as a list of rows (values as
strings, rows sorted), keyed by the query file's name.
"""
import json
import pathlib
import sys

import duckdb


def rows(con, sql):
    result = con.execute(sql)
    out = [[None if v is None else str(v) for v in row] for row in result.fetchall()]
    return sorted(out, key=lambda r: [("" if v is None else v) for v in r])


def main():
    ledger, sql_dir = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    con = duckdb.connect()
    # Capture times are UTC instants; read them as plain UTC timestamps (Python needs no time
    # zone package to print them).
    con.execute("SET TimeZone = 'UTC'")
    for table in ("transactions", "findings"):
        con.execute(
            f"CREATE VIEW {table} AS SELECT * REPLACE (CAST(capture_time AS TIMESTAMP) AS "
            f"capture_time) FROM read_parquet('{ledger / table}/*.parquet')"
        )
    out = {
        "counts": {
            t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("transactions", "findings")
        },
        "findings": rows(
            con, 'SELECT input, rule, "index", stan, merchant FROM findings'
        ),
        "transactions": rows(
            con,
            "SELECT input, leg, message_index, network_index, merchant_id, "
            "network_merchant_id, amount_fen, response_code, network_response_code, "
            "pan_hash, rules FROM transactions",
        ),
        "versions": rows(
            con,
            "SELECT DISTINCT ledger_version FROM transactions "
            "UNION SELECT DISTINCT ledger_version FROM findings",
        ),
        "queries": {},
    }
    for q in sorted(sql_dir.glob("*.sql")):
        out["queries"][q.stem] = rows(con, q.read_text())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
