#!/usr/bin/env bash
# Builds ffi/tests/c/smoke.c strictly against the static library and runs it under valgrind
# (and once against the shared library, without valgrind). Needs scripts/build-ffi.sh first.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../.." && pwd)"
lib="$root/target/ffi/lib"
out="$root/target/ffi/smoke"
mkdir -p "$out"
cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -I"$root/ffi/include")
# The system libraries the static library needs (`--print native-static-libs`).
native=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)

cc "${cflags[@]}" "$root/ffi/tests/c/smoke.c" "$lib/libreplicast.a" "${native[@]}" -o "$out/smoke-static"
cc "${cflags[@]}" "$root/ffi/tests/c/smoke.c" -L"$lib" -lreplicast -Wl,-rpath,"$lib" -o "$out/smoke-shared"

"$out/smoke-shared" >/dev/null
valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 "$out/smoke-static"
