#!/usr/bin/env bash
# The test command of the README: installs what the tests need when missing, builds everything
# (tests included) and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build
