#!/usr/bin/env bash
# The test suite, on any machine: installs what the tests drive for real when it is missing,
# then runs `cargo test --release` (arguments are passed on, e.g. `tests/run.sh --test golden`).
#
#   - Chromium (the report pages in a browser): Debian's package.
#   - Java 17 (Spark's JVM): Debian's headless JRE.
#   - PySpark 3.5 (the cluster driver, Spark local and standalone): a virtual environment
#     cached under /var/tmp/riskgrade-spark.
#
# The build goes where `cargo run --release` puts it (./target, or $CARGO_TARGET_DIR), so the
# tests reuse the compiled dependencies of the README's first command.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
  else
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
  fi
}

if ! command -v chromium > /dev/null 2>&1; then
  echo "tests/run.sh: installing chromium" >&2
  apt_install chromium
fi
if ! command -v java > /dev/null 2>&1; then
  echo "tests/run.sh: installing a Java 17 runtime" >&2
  apt_install openjdk-17-jre-headless
fi
SPARK_VENV="${RISKGRADE_SPARK_VENV:-/var/tmp/riskgrade-spark}"
if ! "$SPARK_VENV/bin/python" -c "import pyspark" > /dev/null 2>&1; then
  echo "tests/run.sh: installing PySpark into $SPARK_VENV" >&2
  if ! python3 -m venv "$SPARK_VENV" > /dev/null 2>&1; then
    apt_install python3-venv
    python3 -m venv "$SPARK_VENV"
  fi
  "$SPARK_VENV/bin/pip" install -q "pyspark==3.5.*"
fi
export RISKGRADE_SPARK_PYTHON="$SPARK_VENV/bin/python"
exec cargo test --release "$@"
