#!/usr/bin/env bash
# Builds the release executables the way production runs them (the Dockerfile calls this):
#
#   --static-swift-stdlib      no shared Swift/Foundation libraries to load and relocate;
#   -function-sections (Swift and C) and lld's --symbol-ordering-file=Scripts/startup.order
#                              the functions a service runs from start-up to idle (listed by
#                              Scripts/startup-order.sh) are laid out together, so an idle
#                              process touches a few MB of code instead of pages all over 30 MB;
#   -z pack-relative-relocs    RELR: start-up reads 27 KB of relocations instead of 3.4 MB, and
#                              the executable stays position-independent (ASLR).
#
# Idle RSS per process went from 39.5 MB to ~25 MB (Benchmarks/RESULTS.md). A stale order file
# only costs memory, never correctness: unknown names are ignored.
#
# Usage: Scripts/build-release.sh [--show-bin-path] [extra swift build arguments…]
set -euo pipefail
cd "$(dirname "$0")/.."

flags=(
    -c release --static-swift-stdlib
    -Xswiftc -Xfrontend -Xswiftc -function-sections
    -Xcc -ffunction-sections
    -Xswiftc -use-ld=lld
    -Xlinker "--symbol-ordering-file=$PWD/Scripts/startup.order"
    -Xlinker --no-warn-symbol-ordering
    -Xlinker -z -Xlinker pack-relative-relocs
)
bin=$(swift build "${flags[@]}" --show-bin-path)
if [[ "${1:-}" == "--show-bin-path" ]]; then
    echo "$bin"
    exit 0
fi
# SwiftPM does not see the order file as an input: relink what is older than it.
for executable in "$bin"/forge "$bin"/forge-*; do
    if [[ -f "$executable" && "$executable" -ot Scripts/startup.order ]]; then
        rm -f "$executable"
    fi
done
exec swift build "${flags[@]}" "$@"
