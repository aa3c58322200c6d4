#!/usr/bin/env bash
# The cluster driver in Spark local mode against one assess, on a generated book of N
# customers (default 1M): wall time and peak memory of both, and whether the merged outputs
# equal the single run's byte for byte.
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
for f in scores.parquet reclassify.parquet reclassify.csv grades_next.parquet grade_history.parquet distribution.csv summary.json; do
  cmp -s "$WORK/spark-single$N/$f" "$WORK/spark-out$N/$f" && echo "same: $f" || echo "DIFFERENT: $f"
done
