#!/usr/bin/env bash
# End-to-end benchmark: generate (or reuse) a portfolio of N customers, then measure in one run
# the bare-scan floor, `riskgrade assess` (with its per-stage table) and the DuckDB peer
# (benches/peer/duckdb_peer.py), check that the peer's grades equal riskgrade's, and print wall
# time, CPU time and peak memory of each with the ratios.
#
# usage: benches/e2e.sh [CUSTOMERS]        (default 1000000; about 20 transactions each)
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
set -euo pipefail
N=${1:-1000000}
BUILD_EXTRA=(--example scan_floor)
. "$(dirname "$0")/common.sh"
python3 -c "import duckdb" 2>/dev/null || pip install --quiet duckdb
# The peer does not solve ownership graphs, so both contenders read the book without its graph
# (ownership.parquet, persons.parquet): the same customers, accounts, transactions and records.
# benches/owners.sh measures the graph.
FULL=$DATA
DATA=$WORK/p$N-nograph
mkdir -p "$DATA"
for f in "$FULL"/*.parquet; do
  case $(basename "$f") in ownership.parquet|persons.parquet) ;; *) ln -sf "$f" "$DATA/" ;; esac
done
TX=$(python3 -c "import duckdb; print(duckdb.connect().execute(\"select count(*) from read_parquet('$DATA/transactions.parquet')\").fetchone()[0])")
echo "portfolio: $N customers, $TX transactions; machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"

declare -A WALL CPU MEM
measure() { # name command...
  local name=$1; shift
  # Every contender starts with the book in the page cache: figures measure work, not the disk.
  cat "$DATA"/*.parquet > /dev/null
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time.txt" "$@"
  read -r e u s m < "$WORK/time.txt"
  WALL[$name]=$e
  CPU[$name]=$(awk "BEGIN { print $u + $s }")
  MEM[$name]=$((m / 1024))
}
sync
measure floor "$CARGO_TARGET_DIR/release/examples/scan_floor" "$DATA"
measure riskgrade "$B" assess -q --timings --data "$DATA" --as-of "$AS_OF" --out "$WORK/out$N"
measure duckdb python3 benches/peer/duckdb_peer.py --data "$DATA" --model data/models/default.toml \
  --reference data/reference --as-of "$AS_OF" --out "$WORK/peer$N.parquet" --compare "$WORK/out$N/scores.parquet"

echo
printf "%-22s %9s %9s %10s\n" "" "wall s" "cpu s" "peak MiB"
for k in riskgrade duckdb floor; do
  printf "%-22s %9s %9s %10s\n" "$k" "${WALL[$k]}" "${CPU[$k]}" "${MEM[$k]}"
done
echo
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
echo "riskgrade / duckdb peer, wall:        $(ratio "${WALL[riskgrade]}" "${WALL[duckdb]}")"
echo "riskgrade / scan floor, wall:         $(ratio "${WALL[riskgrade]}" "${WALL[floor]}")"
echo "riskgrade / duckdb peer, peak memory: $(ratio "${MEM[riskgrade]}" "${MEM[duckdb]}")"
