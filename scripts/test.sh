#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script).
#
# On a fresh machine it installs what the tests need and reuses it later:
#   - tansu, a Kafka-protocol broker, for the end-to-end tests (cargo install);
#   - s3s-fs, an S3-compatible server, for the object-storage test (cargo install);
#   - a Python venv (.venv) with deltalake, pyarrow, duckdb and jsonschema,
#     the independent readers that check the tables and the JSON Schema, and
#     the deploy linters (hadolint, compose, helm SDK, kubernetes-validate).
# Then one release build runs every test: unit, mock-cluster integration and
# end-to-end (tansu) tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

# A full disk shows up as a C library's build failing deep in cargo's
# output ("No space left on device" from OpenSSL's make), so say so up
# front, and again if the run fails. A cold run needs about 10 GB: the
# release build and the fuzz build (about 5 GB in the clone), tansu's and
# s3s-fs's install builds in the temporary directory (removed when each
# ends), and the Python venv.
need_gb=10
free_gb() { df -Pk "$1" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }
step "disk space (a cold run needs about $need_gb GB)"
for dir in "$root" "${TMPDIR:-/tmp}"; do
    free=$(free_gb "$dir")
    echo "$free GB free for $dir"
    if [ "$free" -lt "$need_gb" ]; then
        echo "warning: less than $need_gb GB free for $dir; the build may fail with 'No space left on device'" >&2
    fi
done
trap 'rc=$?; if [ "$rc" -ne 0 ]; then echo "scripts/test.sh failed (exit $rc); free space: $(free_gb "$root") GB for $root, $(free_gb "${TMPDIR:-/tmp}") GB for ${TMPDIR:-/tmp}" >&2; fi' EXIT

step "training file (the sentiment model's tests rebuild it from the CSV)"
# The project keeps it in ../shared/data beside the repository; a clone made
# elsewhere (a temporary directory) finds it beside the repository it was
# cloned from.
csv=shared/data/online_shopping_7_cats.csv
if [ -z "${TD_TRAINING_CSV:-}" ]; then
    origin=$(git remote get-url origin 2>/dev/null || true)
    for candidate in "$root/../$csv" "${origin:+$origin/../$csv}"; do
        if [ -n "$candidate" ] && [ -f "$candidate" ]; then
            TD_TRAINING_CSV=$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")
            break
        fi
    done
fi
if [ -z "${TD_TRAINING_CSV:-}" ] || [ ! -f "$TD_TRAINING_CSV" ]; then
    echo "the training file ../$csv is missing; set TD_TRAINING_CSV to its path" >&2
    exit 1
fi
export TD_TRAINING_CSV
echo "using $TD_TRAINING_CSV"

step "perl and openssl (the vendored OpenSSL build; the TLS test's certificates)"
# rdkafka's ssl-vendored feature builds OpenSSL from source with perl; the
# Kafka security test makes its CA and certificates with the openssl CLI.
missing=()
command -v perl >/dev/null 2>&1 || missing+=(perl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

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

step "Python tools (.venv): table readers, JSON Schema, deploy linters"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
# Reinstall only when a requirements file changed.
stamp="$venv/.tongdian-requirements"
wanted=$(cat scripts/requirements-test.txt deploy/requirements-test.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        -r scripts/requirements-test.txt -r deploy/requirements-test.txt
    echo "$wanted" > "$stamp"
fi
export TD_PYTHON="$venv/bin/python"

step "input contract: feedback.schema.json agrees with the decoder's corpus"
"$TD_PYTHON" scripts/check_contract.py schemas/feedback.schema.json schemas/tests/contract_cases.jsonl

step "BI views: deploy/sql checked in DuckDB"
"$TD_PYTHON" deploy/sql/test_views.py

step "build (release: the one build the tests and 'cargo run --release' share)"
cargo build --release --workspace --all-targets

step "deploy: Dockerfile, compose stack, Helm chart, dashboard"
TD_TONGDIAN_BIN="$root/target/release/tongdian" "$TD_PYTHON" deploy/test_deploy.py

step "cargo test: unit, mock-cluster, tansu and object-store end-to-end tests"
cargo test --release --workspace -- --include-ignored

# The fuzz target runs on the stable toolchain: RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass libFuzzer's coverage flags, and `--sanitizer none` needs
# no nightly-only runtime. A dev build: it compiles in a third of the time
# of an optimised one and still runs thousands of inputs a second.
step "fuzz: decode + analysis (cargo fuzz, ${TD_FUZZ_SECONDS:-60} s)"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
corpus=$(mktemp -d)
(cd fuzz && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$root/fuzz/target" \
    cargo fuzz run --dev --sanitizer none decode_analyze "$corpus" seeds/decode_analyze \
    -- -max_total_time="${TD_FUZZ_SECONDS:-60}" -max_len=65536)
rm -rf "$corpus"
