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
echo "== benches, each run once (timings are not asserted)"
cargo bench --locked -p replicast-benches -- --test
echo "== the README's main job: backtest of the bundled trace"
cargo run --quiet --locked -p replicast-cli -- backtest --plot "${TMPDIR:-/tmp}/replicast-backtest.png"
echo "== CLI on the seed's examples"
cargo run --quiet --locked -p replicast-cli -- validate --spec testdata/seed/hpa.yaml
cargo run --quiet --locked -p replicast-cli -- recommend --spec testdata/seed/hpa.yaml \
    --input examples/inputs/seed-hpa-observation.json
cargo run --quiet --locked -p replicast-cli -- validate --spec testdata/seed/thresholds.yaml
cargo run --quiet --locked -p replicast-cli -- validate --spec testdata/seed/threshold-presets.yaml
cargo run --quiet --locked -p replicast-cli -- recommend --spec testdata/seed/thresholds.yaml \
    --input examples/inputs/seed-threshold-observation.json
