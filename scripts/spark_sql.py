"""The fleet queries (sql/*.sql) on Spark SQL, over a directory of ledgers.

    python3 scripts/spark_sql.py LEDGER_DIR [SQL_DIR]

Runs Spark in local mode (pyspark from PyPI, Java from Debian) unless SPARK_MASTER names a
cluster: the same files, unchanged, on any number of machines. LEDGER_DIR may be any path
Spark reads (s3a://bucket/ledgers with the hadoop-aws package, hdfs://...). Prints one JSON
object: each query's rows (values as strings), keyed by the query file's name.
"""
import json
import os
import pathlib
import sys

from pyspark.sql import SparkSession


def main():
    ledger = sys.argv[1].rstrip("/")
    sql_dir = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "sql")
    spark = (
        SparkSession.builder.appName("iso8583-fleet")
        .master(os.environ.get("SPARK_MASTER", "local[2]"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table in ("transactions", "findings"):
        spark.read.parquet(f"{ledger}/{table}").createOrReplaceTempView(table)
    out = {}
    for q in sorted(sql_dir.glob("*.sql")):
        rows = spark.sql(q.read_text()).collect()
        out[q.stem] = [[None if v is None else str(v) for v in row] for row in rows]
    spark.stop()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
