#!/usr/bin/env bash
# Builds the release executables the way production runs them (the Dockerfile calls this):
#
#   --static-swift-stdlib      no shared Swift/Foundation libraries to load and relocate;
#   -function-sections (Swift and C) and lld's --symbol-ordering-file
#                              the functions each service runs from start-up to idle (profiled
#                              by Scripts/startup-order.sh into Scripts/startup.order) are laid
#                              out together, so an idle process touches a few MB of code
#                              instead of pages all over 30 MB. Each executable is linked
#                              with its own list (Scripts/link-with-order.sh): the kernel maps
#                              a binary's page-cache folios whole (up to 2 MB), so another
#                              service's functions in between would cost this one memory;
#   -z pack-relative-relocs    RELR: start-up reads 27 KB of relocations instead of 3.4 MB, and
#                              the executable stays position-independent (ASLR).
#
# Idle RSS per process went from 39.5 MB to 20-28 MB (Benchmarks/RESULTS.md). A stale profile
# only costs memory, never correctness: unknown names are ignored.
#
# Its own scratch directory (.build/production): objects a plain `swift build -c release` left
# in .build/release were once reused here without function sections — 24 MB of code in
# unorderable blocks, 2 MB more resident per process, and nothing said so.
#
# Usage: Scripts/build-release.sh [--show-bin-path]
set -euo pipefail
cd "$(dirname "$0")/.."

flags=(
    -c release --scratch-path .build/production --static-swift-stdlib
    -Xswiftc -Xfrontend -Xswiftc -function-sections
    -Xcc -ffunction-sections
    -Xswiftc -use-ld=lld
    -Xswiftc -Xclang-linker -Xswiftc "--ld-path=$PWD/Scripts/link-with-order.sh"
    -Xlinker -z -Xlinker pack-relative-relocs
)
bin=$(swift build "${flags[@]}" --show-bin-path)
if [[ "${1:-}" == "--show-bin-path" ]]; then
    echo "$bin"
    exit 0
fi

# Scripts/startup.order has one line per function: a hex mask of the services that ran it
# (bit 0 accounts … bit 7 gateway, as in Scripts/startup-order.sh; bit 8 when it also ran in a
# restart, not only in a first start) and its name. Each executable's list starts with what
# it runs in the steady state, then what only its first start ran (demo data, first sign-up),
# then what the others ran (code a profile missed is then more likely near than scattered);
# the forge CLI gets the list as it is.
services=(accounts pipeline orders servicedesk feedback loyalty analytics gateway)
orders=.build/startup-order
mkdir -p "$orders"
# An executable's list: each name ranked 0 (it ran in this service's steady state), 1 (only
# in its first start) or 2 (only in other services), stably sorted by rank.
order_for() {
    local index=$1 steady=${#services[@]} mask name
    while read -r mask name; do
        if (( !((16#$mask >> index) & 1) )); then
            echo "2 $name"
        elif (( (16#$mask >> steady) & 1 )); then
            echo "0 $name"
        else
            echo "1 $name"
        fi
    done <Scripts/startup.order | sort -s -n -k1,1 | cut -d' ' -f2
}
if [[ ! -f "$orders/forge.order" || "$orders/forge.order" -ot Scripts/startup.order ]]; then
    for index in "${!services[@]}"; do
        order_for "$index" >"$orders/forge-${services[$index]}.order"
    done
    cut -d' ' -f2 Scripts/startup.order >"$orders/forge.order"
fi

# SwiftPM does not see an order file or the linker wrapper as inputs: relink what is older
# than either.
for product in forge "${services[@]/#/forge-}"; do
    if [[ -f "$bin/$product" && ( "$bin/$product" -ot "$orders/$product.order"
          || "$bin/$product" -ot Scripts/link-with-order.sh ) ]]; then
        rm -f "$bin/$product"
    fi
done
exec swift build "${flags[@]}"
