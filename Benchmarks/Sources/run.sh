#!/usr/bin/env bash
# Builds the load generator in release mode and runs it; arguments pass through, e.g.
#   Benchmarks/run.sh -k 4 -c 64 --duration 10
#   Benchmarks/run.sh -k 1 -c 1 --duration 10
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product ForgeBench >/dev/null
exec .build/release/ForgeBench "$@"
