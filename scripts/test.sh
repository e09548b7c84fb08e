#!/usr/bin/env bash
# The one test command (README "Run all the tests"; .ci/run calls exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test (unit, integration, conformance, properties, doctests, C ABI, header drift)"
cargo test --workspace --locked
echo "== rustdoc of the core (a broken intra-doc link is an error)"
RUSTDOCFLAGS="-D warnings" cargo doc --quiet --locked --no-deps -p replicast
echo "== fuzz targets, 2000 inputs each with a fixed seed (docs/fuzzing.md)"
./scripts/fuzz.sh --runs 2000
echo "== C header drift (cbindgen vs ffi/include/replicast.h)"
cargo test --quiet --locked -p replicast-ffi --test header
echo "== C library (release) and the C smoke test under valgrind"
./scripts/build-ffi.sh
./ffi/tests/c/run_c_smoke.sh
echo "== Go binding: vet, tests with -race, cgocheck2 with forced GC, example controller"
(cd ffi/go && go vet ./... && go test -race -count=1 ./...)
(cd ffi/go && GOEXPERIMENT=cgocheck2 GOGC=1 go test -count=1 -short -tags replicastdebug ./...)
(cd examples/go && go vet ./... && go test -count=1 ./... \
    && go run . -spec spec.json -input observations.jsonl)
echo "== KEDA external scaler (gRPC): vet, tests with -race on loopback"
(cd examples/keda-external-scaler && go vet ./... && go test -race -count=1 ./...)
echo "== soak, short: 10^5 randomised decisions over every source (scripts/soak.sh runs 10^8)"
cargo run --quiet --locked -p replicast-benches --bin soak -- 100000
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
cargo run --quiet --locked -p replicast-cli -- validate --spec examples/specs/keda-scaledobject.yaml
cargo run --quiet --locked -p replicast-cli -- validate --spec testdata/seed/vpa.yaml
cargo run --quiet --locked -p replicast-cli -- recommend --spec examples/specs/hpa-vpa.yaml \
    --input examples/inputs/hpa-vpa-observation.json
cargo run --quiet --locked -p replicast-cli -- recommend --spec examples/specs/knative-service.yaml \
    --input examples/inputs/kpa-observation.json
cargo run --quiet --locked -p replicast-cli -- recommend --spec examples/specs/keda-scaledobject.yaml \
    --input examples/inputs/keda-observation.json

echo "== Python: build the extension into .venv, pytest, stubtest"
VENV="${REPLICAST_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    'maturin>=1,<2' numpy pytest mypy prometheus-client matplotlib aiohttp 'ray[data]==2.60.0'
(cd python && "../$VENV/bin/maturin" develop --release --quiet)
"$VENV/bin/python" -m pytest python/tests -q
(cd python && "../$VENV/bin/python" -m mypy.stubtest replicast._replicast \
    --allowlist stubtest-allowlist.txt)
"$VENV/bin/python" -m mypy --strict python/replicast examples/python examples/fleet_ray
# examples/fleet and examples/sharded are scripts importing each other by bare module name
# (both have a fleet.py and a controller.py): one mypy run per folder
"$VENV/bin/python" -m mypy --strict examples/python examples/fleet
"$VENV/bin/python" -m mypy --strict examples/sharded
echo "== Python: sharded controllers, real processes over one SQLite store (docs/sharded.md)"
"$VENV/bin/python" -m pytest -c python/pyproject.toml --rootdir . examples/sharded -q
echo "== Python: the backtest notebook example, chart into a temp dir"
PLOTDIR="$(mktemp -d)"
"$VENV/bin/python" examples/python/backtest_notebook.py --out "$PLOTDIR/backtest.png"
test -s "$PLOTDIR/backtest.png"
rm -rf "$PLOTDIR"
