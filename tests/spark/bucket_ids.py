"""Spark's bucket of every id of a Parquet file: pmod(xxhash64(customer_id), N) for the given N.

usage: bucket_ids.py IDS.parquet OUT_FOLDER N [N ...]
"""
import sys

from pyspark.sql import SparkSession, functions as F

ids, out, counts = sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]]
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.ui.enabled", "false")
    .getOrCreate()
)
df = spark.read.parquet(ids)
for n in counts:
    df = df.withColumn(f"b{n}", F.expr(f"pmod(xxhash64(customer_id), {n})").cast("int"))
df.coalesce(1).write.mode("overwrite").parquet(out)
spark.stop()
