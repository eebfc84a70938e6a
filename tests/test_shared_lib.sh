#!/usr/bin/env bash
# tests/test_shared_lib.sh - otel.h's implementation in a shared library built with
# -fvisibility=hidden and OTEL_API exporting the API (visibility "default"), and a program
# (tests/shared_lib_app.c) linked against it whose literal-key span attributes take the
# inline path: the thread state that path reads must be exported with the functions. With
# gcc, and with clang when installed. Ends with "N passed, N failed".
cd "$(dirname "$0")/.." || exit 2
tmp=${TEST_TMPDIR:-$(mktemp -d)}
pass=0 fail=0
api='-DOTEL_API=extern __attribute__((visibility("default")))'
for cc in gcc clang; do
    if ! command -v "$cc" >/dev/null 2>&1; then
        echo "SKIPPED: test_shared_lib.sh with $cc ($cc not installed)"
        continue
    fi
    dir=$tmp/$cc
    mkdir -p "$dir"
    printf '#define OTEL_IMPLEMENTATION\n#include "otel.h"\n' >"$dir/lib.c"
    if "$cc" -std=c11 -O2 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -shared -pthread -I. "$api" \
        "$dir/lib.c" -o "$dir/libotel.so" -lm 2>"$dir/build.log" &&
        "$cc" -std=c11 -O2 -Wall -Wextra -Werror -pthread -I. "$api" tests/shared_lib_app.c \
            -o "$dir/app" -L"$dir" -lotel 2>>"$dir/build.log"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $cc: the shared library or the program did not build" >&2
        cat "$dir/build.log" >&2
        continue
    fi
    if out=$(LD_LIBRARY_PATH=$dir timeout 60 "$dir/app" 2>&1); then
        pass=$((pass + 1))
        echo "$cc: $out"
    else
        fail=$((fail + 1))
        echo "FAIL: $cc: $out" >&2
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
