#!/usr/bin/env bash
# Builds the load generators in release mode and runs them; arguments pass through, e.g.
#   Benchmarks/run.sh -k 4 -c 64 --duration 10 --pinned
#   Benchmarks/run.sh -k 1 -c 1 --duration 10
# With ALLOCATIONS=1 it runs ForgeAllocBench instead, which counts heap allocations per call
# with the malloc interposer (slower: take throughput from a plain run).
set -euo pipefail
cd "$(dirname "$0")"
swift build -c release >/dev/null
bin="$(swift build -c release --show-bin-path)"
if [[ "${ALLOCATIONS:-0}" == "1" ]]; then
    exec "$bin/ForgeAllocBench" "$@"
fi
exec "$bin/ForgeBench" "$@"
