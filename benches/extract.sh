#!/usr/bin/env bash
# Regulator extract at scale: assess a generated book of N customers (default 1M) once, then time
# `riskgrade extract` of it (both tables as CSV and XLSX, reconciled, with the control file).
#
# usage: benches/extract.sh [CUSTOMERS]
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
set -euo pipefail
N=${1:-1000000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/riskgrade-target}
WORK=${BENCH_DIR:-/var/tmp/riskgrade-bench}
DATA=$WORK/p$N
mkdir -p "$WORK"
cd "$ROOT"
cargo build --release --quiet --bin riskgrade
B=$CARGO_TARGET_DIR/release/riskgrade
[ -f "$DATA/customers.parquet" ] || $B generate -q --customers "$N" --seed 1 --as-of 2026-10-31 --out "$DATA"
[ -f "$WORK/xrun$N/manifest.json" ] || $B assess -q --data "$DATA" --as-of 2026-10-31 --out "$WORK/xrun$N" > /dev/null
/usr/bin/time -f "extract: %e s wall, %M KB peak" "$B" extract -q --run "$WORK/xrun$N" \
  --period-start 2026-01-01 --period-end 2026-10-31 --extracted-on 2026-11-28 --out "$WORK/extract$N"
