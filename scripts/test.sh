#!/usr/bin/env bash
# The one test command (README "Run all the tests"; .ci/run calls exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (unit, integration, conformance, properties, doctests)"
cargo test --workspace --locked
echo "== CLI on the seed's examples"
cargo run --quiet --locked -p replicast-cli -- validate --spec testdata/seed/hpa.yaml
cargo run --quiet --locked -p replicast-cli -- recommend --spec testdata/seed/hpa.yaml \
    --input examples/inputs/seed-hpa-observation.json

echo "== Python: build the extension into .venv, pytest, stubtest"
VENV="${REPLICAST_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    'maturin>=1,<2' numpy pytest mypy prometheus-client
(cd python && "../$VENV/bin/maturin" develop --release --quiet)
"$VENV/bin/python" -m pytest python/tests -q
(cd python && "../$VENV/bin/python" -m mypy.stubtest replicast._replicast \
    --allowlist stubtest-allowlist.txt)
"$VENV/bin/python" -m mypy --strict python/replicast examples/python
