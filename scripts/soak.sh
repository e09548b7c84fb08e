#!/usr/bin/env bash
# The long soak (issue 13): 10^8 randomised decisions over every source, with snapshots and
# restores, malformed inputs that must be refused without touching the state, and bounds on
# replicas, numbers, state size and resident memory (benches/src/bin/soak.rs says what it checks).
# `./scripts/test.sh` runs a short one (10^5 decisions); this runs the long one in release mode.
#   ./scripts/soak.sh [DECISIONS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run --release --quiet --locked -p replicast-benches --bin soak -- "${1:-100000000}" "${2:-1}"
