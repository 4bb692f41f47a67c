#!/usr/bin/env bash
# The test command of the README: builds everything (tests included) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build
