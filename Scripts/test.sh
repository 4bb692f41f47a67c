#!/usr/bin/env bash
# The test command of the README: installs what the tests need when missing, builds everything
# (tests included) and runs every test: the C connector library's own checks (hostile servers
# under AddressSanitizer and valgrind, 20 s of fuzzing), then the Swift tests (which run the C
# client against the real processes too), then the HTTP API against its OpenAPI document
# (schemathesis on a real stack, Scripts/api-fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --test
# The Swift toolchain's clang (libFuzzer) sits beside swift.
make -s -C Connectors/c all check FUZZ_CC="$(dirname "$(readlink -f "$(command -v swift)")")/clang"
swift build --build-tests
swift test --skip-build
Scripts/api-fuzz.sh
