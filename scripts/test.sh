#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
#
# On a fresh machine it installs what the tests need and reuses it later:
#   - tansu, a Kafka-protocol broker, for the end-to-end tests (cargo install);
#   - s3s-fs, an S3-compatible server, for the object-storage test (cargo install);
#   - a Python venv (.venv) with deltalake, pyarrow, duckdb and jsonschema,
#     the independent readers that check the tables and the JSON Schema.
# Then one release build runs every test: unit, mock-cluster integration and
# end-to-end (tansu) tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

TANSU_VERSION=0.6.0
step "tansu $TANSU_VERSION (Kafka-protocol broker for the end-to-end tests)"
if ! command -v tansu >/dev/null 2>&1 || ! tansu --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore,libsql
fi
export TD_TANSU_BIN=$(command -v tansu)
echo "using $TD_TANSU_BIN ($(tansu --version 2>/dev/null || true))"

S3S_VERSION=0.14.1
step "s3s-fs $S3S_VERSION (S3-compatible store for the object-storage tests)"
if ! command -v s3s-fs >/dev/null 2>&1; then
    cargo install s3s-fs --version "$S3S_VERSION" --locked --features binary
fi
export TD_S3S_BIN=$(command -v s3s-fs)
echo "using $TD_S3S_BIN"

step "Python readers (.venv)"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import deltalake, pyarrow, duckdb, jsonschema, rfc3339_validator' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
fi
export TD_PYTHON="$venv/bin/python"

step "input contract: feedback.schema.json agrees with the decoder's corpus"
"$TD_PYTHON" scripts/check_contract.py schemas/feedback.schema.json schemas/tests/contract_cases.jsonl

step "BI views: deploy/sql checked in DuckDB"
"$TD_PYTHON" deploy/sql/test_views.py

step "cargo test (release: the same build as 'cargo run --release')"
cargo test --release --workspace -- --include-ignored
