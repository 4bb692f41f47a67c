#!/usr/bin/env bash
# The linker of the release build (Scripts/build-release.sh): lld, handed the start-up order
# list of the executable it links (.build/startup-order/<name>.order, split from
# Scripts/startup.order), so one `swift build` gives each of the nine executables its own layout.
#
# --no-export-dynamic: the static Swift runtime's link arguments export every symbol of every
# object file (60,000 names, 5.7 MB of .dynsym, .dynstr and .gnu.hash). Nothing looks our
# symbols up by name, but the runtime's start-up calls dladdr() once (the backtracer finding
# its own path), and glibc's dladdr walks the whole table: 3.4 MB resident in every process.
set -euo pipefail
# The arguments, with clang's response files (@file) expanded, one per line.
arguments() {
    for argument in "$@"; do
        if [[ "$argument" == @* && -f "${argument#@}" ]]; then
            xargs -a "${argument#@}" printf '%s\n'
        else
            printf '%s\n' "$argument"
        fi
    done
}
output=$(arguments "$@" | awk '!found && previous == "-o" { print; found = 1 } { previous = $0 }')
# lld ships with the Swift toolchain: on PATH, or next to swift.
lld=$(command -v ld.lld || echo "$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld")
order="$(cd "$(dirname "$0")/.." && pwd)/.build/startup-order/$(basename "${output:-none}").order"
if [[ -n "$output" && -f "$order" ]]; then
    exec "$lld" "$@" --no-export-dynamic "--symbol-ordering-file=$order" --no-warn-symbol-ordering
fi
exec "$lld" "$@" --no-export-dynamic
