#!/usr/bin/env bash
# Regenerates the Swift code of every .proto under Proto/ with Debian's protoc, swift-protobuf's
# protoc-gen-swift and our protoc-gen-forge (both built from this package's dependencies).
#
#   Scripts/generate-protos.sh            rewrite the committed generated code
#   Scripts/generate-protos.sh --check    fail when the committed code differs from what the
#                                         .proto files generate (CI runs this)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v protoc >/dev/null; then
    echo "protoc not found: apt-get install protobuf-compiler" >&2
    exit 1
fi

swift build --product protoc-gen-swift >/dev/null
swift build --product protoc-gen-forge >/dev/null
bin="$(swift build --show-bin-path)"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/ForgeWire" "$out/ForgeContracts"

# The wire envelope lives with the runtime that speaks it.
protoc --proto_path=Proto \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="$out/ForgeWire" --swift_opt=Visibility=Public \
    Proto/forge/wire/v1/*.proto

# Every other contract: messages, handler protocols, clients and the method registry.
contracts=$(find Proto/forge -name '*.proto' ! -path 'Proto/forge/wire/*' | sort)
protoc --proto_path=Proto \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-forge="$bin/protoc-gen-forge" \
    --swift_out="$out/ForgeContracts" --swift_opt=Visibility=Public \
    --forge_out="$out/ForgeContracts" --forge_opt=Visibility=Public,Registry=ForgeMethodRegistry.swift,Schemas=ForgeMessageSchemas.swift \
    $contracts

if [[ "${1:-}" == "--check" ]]; then
    status=0
    for module in ForgeWire ForgeContracts; do
        if ! diff -r "$out/$module" "Shared/$module/Generated"; then
            status=1
        fi
    done
    if [[ $status -ne 0 ]]; then
        echo "generated code is out of date: run Scripts/generate-protos.sh and commit" >&2
        exit 1
    fi
    echo "generated code is current"
else
    for module in ForgeWire ForgeContracts; do
        rm -rf "Shared/$module/Generated"
        cp -r "$out/$module" "Shared/$module/Generated"
    done
    echo "generated code written to Shared/*/Generated"
fi
