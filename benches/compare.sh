#!/usr/bin/env bash
# Weight benchmarking at scale: on a generated book of N customers (default 1M), time one
# `assess --keep-features`, one plain `assess`, `compare` of 100 and 1,000 weight vectors from
# --features, and of 100 from --data; print wall time and peak memory of each with the ratios.
#
# usage: benches/compare.sh [CUSTOMERS]
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
set -euo pipefail
N=${1:-1000000}
. "$(dirname "$0")/common.sh"
cat > "$WORK/grid100.toml" <<'G'
[[moves]]
from = "s3_1"
to = "s2_1"
start = 0.07
end = 7.0
step = 0.07
G
cat > "$WORK/grid1000.toml" <<'G'
[[moves]]
from = "s3_1"
to = "s2_1"
start = 0.01
end = 7.0
step = 0.01

[[moves]]
from = "s1_4"
to = "s3_2"
start = 0.01
end = 3.0
step = 0.01
G
declare -A WALL MEM
measure() { # name command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > /dev/null
  read -r e m < "$WORK/time.txt"
  WALL[$name]=$e
  MEM[$name]=$((m / 1024))
}
M=data/models/default.toml
measure keep "$B" assess -q --keep-features --data "$DATA" --as-of "$AS_OF" --out "$WORK/run$N"
measure assess "$B" assess -q --data "$DATA" --as-of "$AS_OF" --out "$WORK/plain$N"
measure f100 "$B" compare -q --baseline $M --grid "$WORK/grid100.toml" --features "$WORK/run$N/features.parquet" --out "$WORK/cmp100"
measure f1000 "$B" compare -q --baseline $M --grid "$WORK/grid1000.toml" --features "$WORK/run$N/features.parquet" --out "$WORK/cmp1000"
measure d100 "$B" compare -q --baseline $M --grid "$WORK/grid100.toml" --data "$DATA" --as-of "$AS_OF" --out "$WORK/cmpd100"
printf "%-40s %9s %10s\n" "" "wall s" "peak MiB"
for k in assess keep f100 f1000 d100; do
  printf "%-40s %9s %10s\n" "$k" "${WALL[$k]}" "${MEM[$k]}"
done
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
echo "compare 100 from --features / assess, wall: $(ratio "${WALL[f100]}" "${WALL[assess]}")"
echo "compare 100 from --data / assess, wall:     $(ratio "${WALL[d100]}" "${WALL[assess]}")"
echo "compare 1000 from --features, wall s:       ${WALL[f1000]}"
echo "peak memory compare (max) / assess:         $(ratio "$(printf '%s\n' "${MEM[f100]}" "${MEM[f1000]}" "${MEM[d100]}" | sort -n | tail -1)" "${MEM[assess]}")"
