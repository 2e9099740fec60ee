#!/usr/bin/env bash
# The unit test targets (ShmCoreTests, ShmTUITests) once under AddressSanitizer.
#
#   scripts/asan.sh [extra swift test arguments]
#
# Built in its own scratch path (.build-asan) so the instrumented build never replaces the normal one.
# Leak checking is off: XCTest's and Swift Testing's own allocations at exit trip LeakSanitizer
# (shared/guides/decisions.md, "Machine facts"). Any ASan report aborts the test process, which fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
# The Swift backtracer hangs on ASan's abort; ASan prints its own stack.
export SWIFT_BACKTRACE=enable=no
start=$(date +%s)
swift build --build-tests --scratch-path .build-asan -Xswiftc -sanitize=address
swift test --skip-build --scratch-path .build-asan -Xswiftc -sanitize=address \
  --filter '^(ShmCoreTests|ShmTUITests)\.' "$@"
echo "asan: ShmCoreTests and ShmTUITests passed under AddressSanitizer in $(( $(date +%s) - start )) s"
