#!/usr/bin/env bash
# Builds the C library in release mode and installs it under the names C and Go link against:
#   target/ffi/lib/libreplicast.a, target/ffi/lib/libreplicast.so   (C; header: ffi/include/replicast.h)
#   ffi/go/replicast/lib/linux-amd64/libreplicast.a                 (the Go package's cgo link; git-ignored)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p replicast-ffi
mkdir -p target/ffi/lib
cp target/release/libreplicast_ffi.a target/ffi/lib/libreplicast.a
cp target/release/libreplicast_ffi.so target/ffi/lib/libreplicast.so

os=$(go env GOOS 2>/dev/null || echo linux)
arch=$(go env GOARCH 2>/dev/null || echo amd64)
mkdir -p "ffi/go/replicast/lib/$os-$arch"
# Only the static library: beside a .so, -lreplicast would link the shared one.
cp target/release/libreplicast_ffi.a "ffi/go/replicast/lib/$os-$arch/libreplicast.a"
echo "built target/ffi/lib/libreplicast.{a,so} and ffi/go/replicast/lib/$os-$arch/libreplicast.a"
