#!/usr/bin/env bash
# Idle RSS of every Forge process (issue 3: ≤ 30 MB each), measured on the production build
# (Scripts/build-release.sh): starts the whole stack with `forge up` on a fresh data directory
# (demo data loaded), waits until it is healthy, lets it idle, and prints each process's RSS and
# what it is made of (/proc/<pid>/smaps_rollup).
#
#   Benchmarks/idle-rss.sh [--cold] [--restart] [--traffic] [--idle SECONDS]
#
# --cold drops the page cache first (as for a container started on a fresh node); without it
# the executables are already cached. Needs root for --cold. --restart measures a second start
# on the same data (the steady state; the first start also loads the demo data). --traffic
# sends Scripts/typical-traffic.sh's requests once the stack is healthy, before the idle wait:
# idle memory after real use.
set -euo pipefail
cd "$(dirname "$0")/.."
cold=0
restart=0
traffic=0
idle=10
while [[ $# -gt 0 ]]; do
    case $1 in
        --cold) cold=1 ;;
        --restart) restart=1 ;;
        --traffic) traffic=1 ;;
        --idle) idle=$2; shift ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

Scripts/build-release.sh >/dev/null
bin=$(Scripts/build-release.sh --show-bin-path)
work=$(mktemp -d /tmp/forge-rss.XXXXXX)
# Waits (up to a minute) until `forge up` logging to $1 has printed how to call the stack:
# every process healthy and the demo data loaded.
wait_until_up() {
    for _ in $(seq 1 120); do
        grep -q "forge call" "$1" && return
        sleep 0.5
    done
}
if [[ $restart == 1 ]]; then
    "$bin/forge" up --data-dir "$work/data" >"$work/first.log" 2>&1 &
    first=$!
    wait_until_up "$work/first.log"
    kill -INT $first
    wait $first || true
fi
if [[ $cold == 1 ]]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
fi
"$bin/forge" up --data-dir "$work/data" >"$work/up.log" 2>&1 &
up=$!
trap 'kill -INT $up 2>/dev/null || true; wait $up 2>/dev/null || true; rm -rf "$work"' EXIT
wait_until_up "$work/up.log"
grep "healthy in" "$work/up.log" || { cat "$work/up.log"; exit 1; }
if [[ $traffic == 1 ]]; then
    Scripts/typical-traffic.sh
fi
sleep "$idle"

printf '%-18s %8s %8s %8s %8s\n' process "RSS MB" "anon" "file" "PSS MB"
for pid in $(pgrep -P "$up"); do
    name=$(cat "/proc/$pid/comm")
    awk -v name="$name" '
        /^Rss:/ {rss=$2} /^Pss:/ {pss=$2} /^Anonymous:/ {anon=$2}
        END {printf "%-18s %8.1f %8.1f %8.1f %8.1f\n", name, rss/1024, anon/1024, (rss-anon)/1024, pss/1024}
    ' "/proc/$pid/smaps_rollup"
done
