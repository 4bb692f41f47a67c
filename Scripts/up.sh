#!/usr/bin/env bash
# The README's first command: builds every executable and runs the whole stack with `forge up`
# (SQLite under ./data, a development signing key, tokens and the admin user on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build
exec "$(swift build --show-bin-path)/forge" up "$@"
