#!/usr/bin/env bash
# Developer script (not part of scripts/test.sh or CI): measures the peers' forecasters
# (../shared/peers/bench_forecast.py: statsforecast, statsmodels, prophet) and replicast's
# `forecast-eval` on the same traces in one run, on one machine, and writes docs/forecast-peers.md.
#
# Usage: scripts/forecast-peers.sh [--no-prophet] [--quick] [--skip-peers] [--full-grid MODELS]
#                                  [-- EXTRA_BENCH_ARGS...]
#   --no-prophet  do not install or run prophet (its install is slow and may fail)
#   --quick       pass "--budget-scale 0.5" to bench_forecast.py (fewer origins for slow models)
#   --skip-peers  reuse the last peers' run in target/forecast-peers/ (only rerun replicast)
#   --full-grid   after the peers' own run, score these models on every origin of the peers' grid,
#                 not only the 40 their time box allows; MODEL:SECONDS keeps a longer time box per
#                 trace (default "AutoETS,AutoARIMA:60", about 12 minutes; "" to skip;
#                 scripts/peers_full_grid.py, output in full-grid/). The report also merges
#                 every target/forecast-peers/full-grid-*/ directory: separate full-grid runs
#                 made by hand, e.g. MSTL one trace per process (it takes 12 s a call at one
#                 minute), each with bench_forecast.py's --only TRACE --tag NAME:
#                   (cd ../shared/peers && ../../main/target/peers-venv/bin/python \
#                     ../../main/scripts/peers_full_grid.py --peers-dir . --full-grid MSTL:2700 \
#                     -- --traces-dir ../traces --out ../../main/target/forecast-peers/full-grid-mstl \
#                     --synthetic "" --no-co2 --no-mem --models SeasonalNaive,MSTL \
#                     --only nasa_http_1995jul_1min --tag nasa)
#   after --       extra arguments for bench_forecast.py (see its --help)
# Environment: REPLICAST_PEERS_DIR (default ../shared/peers), REPLICAST_TRACES_DIR (default
# ../shared/traces), PYTHON (default python3).
#
# Everything it creates lives under target/: the venv (target/peers-venv, made once) and the
# peers' raw output (target/forecast-peers/). The traces themselves are only read.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PEERS=${REPLICAST_PEERS_DIR:-$ROOT/../shared/peers}
TRACES=${REPLICAST_TRACES_DIR:-$ROOT/../shared/traces}
PY=${PYTHON:-python3}
VENV=$ROOT/target/peers-venv
OUT=$ROOT/target/forecast-peers

prophet=1
skip_peers=0
full_grid=AutoETS,AutoARIMA:60
bench_args=(--synthetic "" --no-co2 --no-mem)
while [[ $# -gt 0 ]]; do
    case "$1" in
        --no-prophet) prophet=0 ;;
        --quick) bench_args+=(--budget-scale 0.5) ;;
        --skip-peers) skip_peers=1 ;;
        --full-grid) full_grid=${2?--full-grid needs a model list}; shift ;;
        --) shift; bench_args+=("$@"); break ;;
        *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift
done

[[ -f $PEERS/bench_forecast.py ]] || { echo "no $PEERS/bench_forecast.py" >&2; exit 1; }
[[ -d $TRACES ]] || { echo "no trace directory $TRACES" >&2; exit 1; }
mkdir -p "$OUT"

if [[ $skip_peers == 0 ]]; then
    if [[ ! -x $VENV/bin/python ]]; then
        echo "== creating $VENV"
        "$PY" -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --upgrade pip
    fi
    echo "== peers' packages (statsforecast statsmodels numpy pandas psutil)"
    "$VENV/bin/pip" install --quiet statsforecast statsmodels numpy pandas psutil
    if [[ $prophet == 1 ]]; then
        "$VENV/bin/pip" install --quiet prophet \
            || { echo "prophet did not install: the peers' run goes on without it" >&2; prophet=0; }
    fi
    if [[ $prophet == 0 ]]; then
        models=$("$VENV/bin/python" - "$PEERS/bench_forecast.py" <<'EOF'
import re, sys
src = open(sys.argv[1]).read()
names = re.search(r"ALL_MODELS = \[([^\]]*)\]", src).group(1)
print(",".join(n.strip().strip('"') for n in names.split(",") if n.strip() and "Prophet" not in n))
EOF
)
        bench_args+=(--models "$models")
    fi
    echo "== peers: bench_forecast.py ${bench_args[*]} (output in $OUT)"
    started=$(date +%s)
    (cd "$PEERS" && "$VENV/bin/python" bench_forecast.py --traces-dir "$TRACES" --out "$OUT" \
        "${bench_args[@]}")
    echo "peers' run: $(( ($(date +%s) - started) / 60 )) min"
    printf '%s\n' "${bench_args[@]}" > "$OUT/bench_args.txt"

    rm -rf "$OUT/full-grid"
    if [[ -n $full_grid ]]; then
        echo "== peers on the full origin grid: $full_grid (output in $OUT/full-grid)"
        started=$(date +%s)
        (cd "$PEERS" && "$VENV/bin/python" "$ROOT/scripts/peers_full_grid.py" --peers-dir . \
            --full-grid "$full_grid" -- --traces-dir "$TRACES" --out "$OUT/full-grid" \
            --synthetic "" --no-co2 --no-mem --models "SeasonalNaive,$(sed -E 's/:[0-9.]+//g' <<< "$full_grid")")
        echo "full-grid run: $(( ($(date +%s) - started) / 60 )) min"
    fi
fi

echo "== replicast forecast-eval --json on the same traces"
cargo build --release --quiet -p replicast-cli
: > "$OUT/replicast.jsonl"
mkdir -p "$OUT/replicast-origins"
for f in "$TRACES"/*.csv; do
    ./target/release/replicast forecast-eval --trace "$f" --json \
        --origins "$OUT/replicast-origins/$(basename "$f" .csv).csv" \
        | tr -d '\n' >> "$OUT/replicast.jsonl"
    echo >> "$OUT/replicast.jsonl"
done

echo "== writing docs/forecast-peers.md"
"$PY" scripts/forecast_peers_report.py --peers "$OUT" --replicast "$OUT/replicast.jsonl" \
    --replicast-origins "$OUT/replicast-origins" \
    $(for d in "$OUT"/full-grid "$OUT"/full-grid-*/; do [[ -d $d ]] && printf -- '--full-grid %s ' "$d"; done) \
    --out docs/forecast-peers.md
