#!/usr/bin/env bash
# Builds the load generator in release mode and runs it; arguments pass through, e.g.
#   Benchmarks/run.sh -k 4 -c 64 --duration 10 --pinned
#   Benchmarks/run.sh -k 1 -c 1 --duration 10
# With ALLOCATIONS=1 the malloc interposer is preloaded and allocations per call are reported
# (counting every malloc slows the run: take throughput from a run without it).
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release --product ForgeBench >/dev/null
bin="$(swift build -c release --show-bin-path)"
if [[ "${ALLOCATIONS:-0}" == "1" ]]; then
    export LD_PRELOAD="$bin/libMallocInterposerSwift.so"
fi
exec "$bin/ForgeBench" "$@"
