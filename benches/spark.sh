#!/usr/bin/env bash
# The cluster driver in Spark local mode against one assess, on a generated book of N
# customers (default 1M): wall time and peak memory of both, the bytes the driver received from
# the tasks, and whether the run's datasets hold the single run's rows (each bucket's part the
# single file's rows of that bucket, in order; summary and distribution byte for byte).
#
# usage: benches/spark.sh [CUSTOMERS] [BUCKETS]
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR,
#        RISKGRADE_SPARK_PYTHON (default /var/tmp/riskgrade-spark/bin/python), SPARK_MASTER
set -euo pipefail
N=${1:-1000000}
K=${2:-4}
PY=${RISKGRADE_SPARK_PYTHON:-/var/tmp/riskgrade-spark/bin/python}
MASTER=${SPARK_MASTER:-local[2]}
. "$(dirname "$0")/common.sh"
M=(--model data/models/default.toml --reference data/reference)
/usr/bin/time -f "assess: %e s wall, %M KB peak" \
  $B -q assess --as-of $AS_OF --data "$DATA" --out "$WORK/spark-single$N" "${M[@]}" > /dev/null
rm -rf "$WORK/spark-out$N" "$WORK/spark-out$N.work"
/usr/bin/time -f "spark $MASTER, $K buckets: %e s wall, %M KB peak (driver JVM and Python; executors run inside it in local mode, each bucket's riskgrade is a child process)" \
  "$PY" spark/riskgrade_spark.py --master "$MASTER" --data "$DATA" --buckets "$K" \
  --out "$WORK/spark-out$N" --as-of $AS_OF --binary "$B" "${M[@]}" 2>&1 \
  | grep -E '^riskgrade-spark:|wall'
for f in distribution.csv summary.json; do
  cmp -s "$WORK/spark-single$N/$f" "$WORK/spark-out$N/$f" && echo "same: $f" || echo "DIFFERENT: $f"
done
"$PY" - "$WORK/spark-single$N" "$WORK/spark-out$N" "$K" <<'PY'
import sys, os
single, parts, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
# Rows per dataset: the parts together hold as many rows as the single file (pyspark only).
from pyspark.sql import SparkSession
spark = SparkSession.builder.master("local[1]").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
for f in ["scores.parquet", "reclassify.parquet", "grades_next.parquet", "grade_history.parquet"]:
    a = spark.read.parquet(os.path.join(single, f))
    b = spark.read.parquet(os.path.join(parts, f))
    same = a.count() == b.count() and a.exceptAll(b).count() == 0 and b.exceptAll(a).count() == 0
    print(("same rows: " if same else "DIFFERENT rows: ") + f)
PY
