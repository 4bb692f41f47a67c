#!/usr/bin/env bash
# Builds the libFuzzer target with -sanitize=fuzzer,address and runs it.
#   Fuzz/run.sh [seconds]   (default 600)
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-600}"
swift build -c debug --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
    -Xswiftc -parse-as-library 2>&1 | tail -3
mkdir -p corpus artifacts
# Seed corpus: a few well-formed frames.
python3 seeds.py corpus
.build-fuzz/debug/FrameFuzzer corpus -max_total_time="$seconds" -rss_limit_mb=2048 \
    -artifact_prefix=artifacts/ -print_final_stats=1
echo "corpus files: $(ls corpus | wc -l)"
