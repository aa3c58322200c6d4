#!/usr/bin/env bash
# Regulator extract at scale: assess a generated book of N customers (default 1M) once, then time
# `riskgrade extract` of it (both tables as CSV, reconciled, with the control file; pass --xlsx
# after N for the workbooks too).
#
# usage: benches/extract.sh [CUSTOMERS] [EXTRA EXTRACT FLAGS...]
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
set -euo pipefail
N=${1:-1000000}
shift || true
. "$(dirname "$0")/common.sh"
[ -f "$WORK/xrun$N/manifest.json" ] || $B assess -q --data "$DATA" --as-of "$AS_OF" --out "$WORK/xrun$N" > /dev/null
/usr/bin/time -f "extract: %e s wall, %M KB peak" "$B" extract -q --run "$WORK/xrun$N" \
  --period-start 2026-01-01 --period-end 2026-10-31 --extracted-on 2026-11-28 --out "$WORK/extract$N" "$@"
