#!/usr/bin/env bash
# Runs the cargo-fuzz (libFuzzer) targets in fuzz/ (docs/fuzzing.md).
#
#   scripts/fuzz.sh [TARGET...] [--runs N | --seconds S] [--dev]
#   scripts/fuzz.sh --install     (only install cargo-fuzz; .ci/run does this)
#
# Without TARGET, every target. Without --runs or --seconds, each target runs 10 minutes.
# --runs N runs N inputs per target with a fixed seed (-seed=1) in a fresh working corpus:
# deterministic, what scripts/test.sh runs. --dev builds without optimizations (a faster build,
# slower executions). New inputs go to fuzz/work/TARGET (long runs) or a temporary directory
# (--runs), never to the committed seeds in fuzz/corpus/TARGET; crashes go to
# fuzz/artifacts/TARGET and fail the script. Extra arguments after `--` go to libFuzzer.
#
# Toolchain: `cargo +nightly fuzz` when a nightly toolchain is installed, otherwise the stable
# toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Zsanitizer; REPLICAST_FUZZ_STABLE=1 forces
# this). cargo-fuzz itself is installed from crates.io when missing, into $REPLICAST_TOOLS
# (default ~/.cache/replicast/tools).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(spec_parse state_restore trace_read c_abi)
CARGO_FUZZ_VERSION=0.13.2
TOOLS="${REPLICAST_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/replicast/tools}"

targets=()
mode=(-max_total_time=600)
deterministic=0
build=()
extra=()
install_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) mode=("-runs=$2" -seed=1); deterministic=1; shift 2 ;;
        --seconds) mode=("-max_total_time=$2"); shift 2 ;;
        --dev) build=(--dev); shift ;;
        --install) install_only=1; shift ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
    [ -f "fuzz/fuzz_targets/$t.rs" ] || { echo "fuzz.sh: no fuzz target $t" >&2; exit 2; }
done

export PATH="$TOOLS/bin:$PATH"
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS"
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$TOOLS"
fi
[ "$install_only" = 0 ] || exit 0
if [ "${REPLICAST_FUZZ_STABLE:-0}" != 1 ] && command -v rustup >/dev/null 2>&1 \
    && rustup toolchain list | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
else
    # cargo-fuzz passes -Zsanitizer=address; stable accepts it with RUSTC_BOOTSTRAP
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
fi
echo "== $(cargo fuzz --version) as: ${fuzz[*]}"

start=$SECONDS
one=()
[ ${#targets[@]} -ne 1 ] || one=("${targets[0]}")
(cd fuzz && "${fuzz[@]}" build "${build[@]}" "${one[@]}")
echo "== built the fuzz targets in $((SECONDS - start)) s"

scratch=""
trap '[ -z "$scratch" ] || rm -rf "$scratch"' EXIT
if [ "$deterministic" = 1 ]; then
    scratch="$(mktemp -d)"
fi
for t in "${targets[@]}"; do
    if [ -n "$scratch" ]; then work="$scratch/$t"; else work="$PWD/fuzz/work/$t"; fi
    mkdir -p "$work"
    log="$(mktemp)"
    t0=$SECONDS
    echo "== fuzz $t (${mode[*]})"
    # -timeout: one input taking longer than 10 s is a finding (a hang), as is a leak
    if ! (cd fuzz && "${fuzz[@]}" run "${build[@]}" "$t" "$work" "corpus/$t" -- \
        "${mode[@]}" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        "${extra[@]}") >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz.sh: $t failed; the input is in fuzz/artifacts/$t/" >&2
        rm -f "$log"
        exit 1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    corpus=$(grep -E '^#[0-9]+\s+DONE' "$log" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    echo "   $t: ${execs:-?} executions in $((SECONDS - t0)) s (${rate:-?} exec/s), corpus ${corpus:-?} inputs"
    rm -f "$log"
done
echo "== fuzzing done in $((SECONDS - start)) s"
