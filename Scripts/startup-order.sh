#!/usr/bin/env bash
# Regenerates Scripts/startup.order: the functions the eight services run from start-up to
# serving idle (health checks, /metrics scrapes, job ticks, event-feed polls) and serving a
# sales team's typical requests (Scripts/typical-traffic.sh), each with a mask of the services
# that ran it. Scripts/build-release.sh gives each executable its share, which
# lld places together; an idle process then touches a few MB of code (Benchmarks/RESULTS.md).
#
# Run it after changes that add much start-up or idle-path code; an outdated list still links
# (missing names are ignored) and only costs memory. Needs valgrind (installed when missing).
# Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }

Scripts/build-release.sh >/dev/null
bin=$(Scripts/build-release.sh --show-bin-path)

work=$(mktemp -d /tmp/forge-order.XXXXXX)
up=""
cleanup() {
    [[ -n "$up" ]] && { kill -INT "$up" 2>/dev/null || true; wait "$up" 2>/dev/null || true; }
    rm -rf "$work"
}
trap cleanup EXIT

# `forge up` starts the executables next to it: there, each is a wrapper running the real one
# under valgrind, so the profile covers what `forge up` really does: a first start (demo data
# loaded) and a second on the same data, consumers and jobs included. valgrind cannot read the
# DWARF 5 of a Swift 6 build: it gets a stripped copy.
services=(accounts pipeline orders servicedesk feedback loyalty analytics gateway)
mkdir -p "$work/bin" "$work/real"
cp "$bin/forge" "$work/bin/forge"
for service in "${services[@]}"; do
    strip -g -o "$work/real/forge-$service" "$bin/forge-$service"
    cat >"$work/bin/forge-$service" <<WRAPPER
#!/bin/sh
exec valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/$service.%q{FORGE_PROFILE_RUN}.%p.callgrind" "$work/real/forge-$service" "\$@"
WRAPPER
    chmod +x "$work/bin/forge-$service"
done
admin_port() {
    case $1 in
        gateway) echo 9100 ;; accounts) echo 9101 ;; pipeline) echo 9102 ;; orders) echo 9103 ;;
        servicedesk) echo 9104 ;; feedback) echo 9105 ;; loyalty) echo 9106 ;; analytics) echo 9107 ;;
    esac
}
# One run of the stack: start, the idle path (what an orchestrator and Prometheus do to a
# running stack), stop.
profile_run() {
    "$work/bin/forge" up --data-dir "$work/data" --start-timeout 600 >"$work/up.log" 2>&1 &
    up=$!
    for _ in $(seq 1 1200); do
        grep -q "forge call" "$work/up.log" && break
        kill -0 "$up" 2>/dev/null || { cat "$work/up.log"; exit 1; }
        sleep 0.5
    done
    # Requests as a sales team makes them (JSON API and web pages): the code serving them is
    # part of a running gateway's and accounts' steady state, not only start-up's.
    "$root/Scripts/typical-traffic.sh" >/dev/null
    for round in 1 2 3; do
        FORGE_DATA_DIR="$work/data" "$bin/forge" health >/dev/null || true
        for service in "${services[@]}"; do
            port=$(admin_port "$service")
            curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || true
            curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || true
            curl -sf "http://127.0.0.1:$port/metrics" >/dev/null || true
        done
        curl -sf http://127.0.0.1:8080/login >/dev/null || true
        sleep 2
    done
    # Then quiet for longer than the 30 s after which long polls time out and IdleMemoryRelease
    # returns memory: code an idle process runs only then belongs to its steady state too.
    sleep 40
    kill -INT "$up"
    wait "$up" || true
    up=""
}
FORGE_PROFILE_RUN=first profile_run
FORGE_PROFILE_RUN=restart profile_run

python3 - "$work" "$bin" "$root/Scripts/startup.order" "${services[@]}" <<'EOF'
import glob, re, subprocess, sys
work, bin_dir, out = sys.argv[1:4]
services = sys.argv[4:]
defined = set()
for service in services:
    listing = subprocess.run(["nm", "--defined-only", f"{bin_dir}/forge-{service}"],
                             capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            defined.add(parts[2])
# Each function's users: the services that ran it (bits 0-7), and bit 8 when it ran in the
# restart, i.e. in the steady state and not only in a first start (demo data, first sign-up).
# Grouping by that set keeps each binary's code together: first what all eight run (the kit,
# the runtime, the standard library), then what fewer share, down to what one service alone
# runs. In first-seen order inside a group. Scripts/build-release.sh gives each binary its own
# steady code first, then its first-start-only code, then the others' code.
STEADY = 1 << len(services)
first_seen, users = {}, {}
profiles = [(index, path) for index, service in enumerate(services)
            for path in sorted(glob.glob(f"{work}/{service}.*.callgrind"))]
for index, path in profiles:
    steady = STEADY if ".restart." in path else 0
    for line in open(path, errors="replace"):
        match = re.match(r"^c?fn=\(\d+\) (.*)$", line.rstrip("\n"))
        if match:
            name = match.group(1)
            if name in defined:
                first_seen.setdefault(name, len(first_seen))
                users[name] = users.get(name, 0) | (1 << index) | steady
group_first = {}
for name in first_seen:  # in first-seen order
    group_first.setdefault(users[name], first_seen[name])
# Stable: first-seen order stays inside a group.
order = sorted(first_seen, key=lambda name: (-bin(users[name]).count("1"), group_first[users[name]]))
with open(out, "w") as file:
    # The mask says which binaries get the name (Scripts/build-release.sh splits the list).
    file.writelines(f"{users[name]:03x} {name}\n" for name in order)
print(f"{len(order)} functions -> {out}")
EOF
