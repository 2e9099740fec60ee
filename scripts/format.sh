#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and .swift-format; `--lint` only reports.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--lint" ]; then exec swift format lint -r Sources Tests; fi
exec swift format -i -r Sources Tests
