#!/usr/bin/env bash
# The report at scale: on a generated book of N customers (default 1M), run `assess` and print
# the size of report.html and the time taken to aggregate, render and write it (the line assess
# prints), against the targets (under 2 MB, under 1 s); a screenshot of the page is written next
# to it when chromium is installed.
#
# usage: benches/report.sh [CUSTOMERS]
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
set -euo pipefail
N=${1:-1000000}
. "$(dirname "$0")/common.sh"
OUT=$WORK/report-out$N
line=$($B assess --as-of "$AS_OF" --data "$DATA" --out "$OUT" 2>&1 >/dev/null | grep '^report.html:')
bytes=$(stat -c %s "$OUT/report.html")
echo "$N customers: $line (file $bytes bytes)"
secs=$(echo "$line" | sed -E 's/.* in ([0-9.]+)s/\1/')
awk -v b="$bytes" -v s="$secs" 'BEGIN {
  printf "size %s the 2 MB target, time %s the 1 s target\n",
    (b < 2 * 1024 * 1024 ? "within" : "OVER"), (s < 1 ? "within" : "OVER") }'
if command -v chromium > /dev/null 2>&1; then
  chromium --headless --no-sandbox --disable-gpu --screenshot="$OUT/report.png" \
    --window-size=1280,5200 "file://$OUT/report.html" > /dev/null 2>&1
  echo "screenshot: $OUT/report.png"
fi
