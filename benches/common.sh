# Set-up shared by the benchmark scripts, sourced once N is set: builds riskgrade (and the cargo
# targets listed in BUILD_EXTRA), and generates the book of N customers (seed 1) once.
# env: BENCH_DIR (default /var/tmp/riskgrade-bench), CARGO_TARGET_DIR
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/riskgrade-target}
WORK=${BENCH_DIR:-/var/tmp/riskgrade-bench}
DATA=$WORK/p$N
AS_OF=2026-10-31
mkdir -p "$WORK"
cd "$ROOT"
cargo build --release --quiet --bin riskgrade ${BUILD_EXTRA[@]+"${BUILD_EXTRA[@]}"}
B=$CARGO_TARGET_DIR/release/riskgrade
if [ ! -f "$DATA/customers.parquet" ]; then
  echo "generating $N customers into $DATA"
  $B generate -q --customers "$N" --seed 1 --as-of "$AS_OF" --out "$DATA"
fi
