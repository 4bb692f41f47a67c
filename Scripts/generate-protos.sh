#!/usr/bin/env bash
# Regenerates the Swift code of every .proto under Proto/ with Debian's protoc, swift-protobuf's
# protoc-gen-swift and our protoc-gen-forge (both built from this package's dependencies), and
# the C code of the contracts the C connector library ships (Debian's protoc-c).
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
mkdir -p "$out/ForgeWire" "$out/ForgeContracts" "$out/connector"

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

# The C connector (Connectors/c): the wire envelope and the contracts ERP and MES connectors
# call — accounts, orders, the shared messages, health and the test echo. (protoc-c 1.4 cannot
# read proto3 `optional`; a contract that uses it is left out until a connector needs it.)
if ! command -v protoc-c >/dev/null; then
    echo "protoc-c not found: apt-get install protobuf-c-compiler libprotobuf-c-dev" >&2
    exit 1
fi
protoc-c --proto_path=Proto --proto_path=/usr/include --c_out="$out/connector" \
    Proto/forge/wire/v1/wire.proto Proto/forge/common/v1/*.proto Proto/forge/accounts/v1/accounts.proto \
    Proto/forge/orders/v1/orders.proto Proto/forge/testing/v1/echo.proto google/protobuf/timestamp.proto

if [[ "${1:-}" == "--check" ]]; then
    status=0
    for module in ForgeWire ForgeContracts; do
        if ! diff -r "$out/$module" "Shared/$module/Generated"; then
            status=1
        fi
    done
    if ! diff -r "$out/connector" Connectors/c/generated; then
        status=1
    fi
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
    rm -rf Connectors/c/generated
    cp -r "$out/connector" Connectors/c/generated
    echo "generated code written to Shared/*/Generated and Connectors/c/generated"
fi
