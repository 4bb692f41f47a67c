#!/usr/bin/env bash
# The README's first command: builds every executable and runs the whole stack with `forge up`
# (SQLite under ./data, a development signing key, tokens and the admin user on first run).
#
# A release build, as production runs it: the first start — eight processes healthy and the
# demo data loaded — takes ~8 s on a 2-core machine, where a debug build's takes ~25 s (the load
# is CPU-bound; Benchmarks/RESULTS.md). Its first build is longer than a debug one; later builds
# are incremental. `Scripts/up.sh --debug` runs the debug build the tests use instead.
# Any other arguments go to `forge up` (e.g. --data-dir).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
configuration=release
if [[ "${1:-}" == "--debug" ]]; then configuration=debug; shift; fi
swift build -c "$configuration"
exec "$(swift build -c "$configuration" --show-bin-path)/forge" up "$@"
