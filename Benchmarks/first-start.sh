#!/usr/bin/env bash
# The first start of the whole stack (issue 19: healthy and demo data loaded in ≤ 10 s): runs
# `forge up` on a fresh data directory RUNS times and prints what it reports — every process
# healthy, the demo load, and "ready" (the wall time from starting the processes to the end of
# the demo load) — then stops it with SIGINT and prints how long that took.
#
#   Benchmarks/first-start.sh [--debug | --production] [--interrupt] [RUNS]
#
# By default it measures the README's build (`Scripts/up.sh`: `swift build -c release`), as a new
# user runs it; --debug the debug build the tests use; --production the container's build
# (Scripts/build-release.sh). --interrupt sends SIGINT as soon as the demo load has begun
# (Ctrl-C during start-up).
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    --debug)
        shift
        swift build >/dev/null 2>&1
        bin=$(swift build --show-bin-path) ;;
    --production)
        shift
        Scripts/build-release.sh >/dev/null
        bin=$(Scripts/build-release.sh --show-bin-path) ;;
    *)
        swift build -c release >/dev/null 2>&1
        bin=$(swift build -c release --show-bin-path) ;;
esac
interrupt=0
if [[ "${1:-}" == "--interrupt" ]]; then interrupt=1; shift; fi
runs=${1:-3}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; binaries: $bin"
for run in $(seq 1 "$runs"); do
    work=$(mktemp -d /tmp/forge-first-start.XXXXXX)
    "$bin/forge" up --data-dir "$work/data" > "$work/up.log" 2>&1 &
    pid=$!
    until_line="Ctrl-C stops everything"
    (( interrupt )) && until_line="demo data: accounts"
    for _ in $(seq 1 1200); do
        grep -q "$until_line" "$work/up.log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    healthy=$(grep -o "all 8 processes healthy in .*" "$work/up.log" || echo "not healthy")
    loaded=$(grep -o "demo data loaded: .*" "$work/up.log" || echo "demo data not loaded")
    ready=$(grep -o "ready in .*" "$work/up.log" || echo "not ready")
    started=$(date +%s%N)
    kill -INT "$pid"
    wait "$pid" || true
    stopped=$(( ($(date +%s%N) - started) / 1000000 ))
    left=$(pgrep -f "$bin/forge-" | wc -l || true)
    (( interrupt )) && loaded="interrupted during the demo load, $left processes left behind"
    echo "run $run: $healthy; $loaded; $ready; stopped ${stopped} ms after SIGINT"
    rm -rf "$work"
done
