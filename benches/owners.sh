#!/usr/bin/env bash
# Beneficial owners at scale: `riskgrade owners` on a generated ownership graph of N customers
# (default 10M, of which about a tenth are entities: 1M entities, about 4M edges, holding chains
# up to 8 deep and cycles), made with `generate --graph-only`; then `assess` of a full book of M
# customers (default 1M) with its graph and without it (the same files, ownership.parquet and
# persons.parquet left out), three alternating runs each: wall time and peak memory.
#
# usage: benches/owners.sh [GRAPH_CUSTOMERS] [BOOK_CUSTOMERS]
# env:   BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
set -euo pipefail
G=${1:-10000000}
N=${2:-1000000}
. "$(dirname "$0")/common.sh"
GRAPH=$WORK/graph$G
if [ ! -f "$GRAPH/ownership.parquet" ]; then
  echo "generating the ownership graph of $G customers into $GRAPH"
  $B generate -q --graph-only --customers "$G" --seed 1 --as-of "$AS_OF" --out "$GRAPH"
fi
rm -f "$WORK/owners$G.parquet"
/usr/bin/time -f "owners ($G customers): %e s wall, %M KB peak" \
  $B -q owners --as-of $AS_OF --data "$GRAPH" --out "$WORK/owners$G.parquet"
NOGRAPH=$WORK/p$N-nograph
rm -rf "$NOGRAPH" && mkdir -p "$NOGRAPH"
for f in "$DATA"/*.parquet; do
  case $(basename "$f") in
    ownership.parquet | persons.parquet) ;;
    *) ln "$f" "$NOGRAPH/" ;;
  esac
done
for i in 1 2 3; do
  for d in "$DATA" "$NOGRAPH"; do
    rm -rf "$WORK/owners-run"
    /usr/bin/time -f "assess $(basename "$d"): %e s wall, %M KB peak" \
      $B -q assess --as-of $AS_OF --data "$d" --out "$WORK/owners-run" > /dev/null
  done
done
rm -rf "$WORK/owners-run" "$NOGRAPH"
