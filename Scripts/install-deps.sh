#!/usr/bin/env bash
# Installs what building and running need on a fresh Debian machine (SQLite's headers for
# GRDB); with --test also what the tests need: protoc (generated-code check), headless
# Chromium and its driver (web-page tests), docker-compose (to validate docker-compose.yml),
# Selenium, openapi-spec-validator and aiosmtpd (a real SMTP server for the notification tests) from PyPI;
# and for the C connector (Connectors/c): a C compiler, make, pkg-config, protobuf-c (library
# and protoc-c), OpenSSL's headers and valgrind.
# Does nothing when everything is there; needs root otherwise.
set -euo pipefail
packages=()
[[ -f /usr/include/sqlite3.h ]] || packages+=(libsqlite3-dev)
# zlib for ZIPFoundation (reading .xlsx workbooks).
[[ -f /usr/include/zlib.h ]] || packages+=(zlib1g-dev)
if [[ "${1:-}" == "--test" ]]; then
    command -v protoc >/dev/null || packages+=(protobuf-compiler)
    command -v chromium >/dev/null || packages+=(chromium)
    command -v chromedriver >/dev/null || packages+=(chromium-driver)
    command -v python3 >/dev/null || packages+=(python3 python3-pip)
    command -v docker-compose >/dev/null || packages+=(docker-compose)
    command -v cc >/dev/null || packages+=(gcc libc6-dev)
    command -v make >/dev/null || packages+=(make)
    command -v pkg-config >/dev/null || packages+=(pkg-config)
    command -v protoc-c >/dev/null || packages+=(protobuf-c-compiler)
    [[ -f /usr/include/protobuf-c/protobuf-c.h ]] || packages+=(libprotobuf-c-dev)
    [[ -f /usr/include/openssl/ssl.h ]] || packages+=(libssl-dev)
    command -v valgrind >/dev/null || packages+=(valgrind)
    command -v openssl >/dev/null || packages+=(openssl)
fi
if (( ${#packages[@]} )); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "missing ${packages[*]}: install them (apt-get install ${packages[*]}) or run as root" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi
# schemathesis is pinned: Scripts/api-fuzz.sh runs it with a fixed seed, so a run is repeatable.
if [[ "${1:-}" == "--test" ]] && ! python3 -c "import selenium, openapi_spec_validator, aiosmtpd; from importlib.metadata import version; assert version('schemathesis') == '4.32.5'" 2>/dev/null; then
    python3 -m pip install -q --break-system-packages selenium openapi-spec-validator aiosmtpd schemathesis==4.32.5 2>/dev/null \
        || python3 -m pip install -q selenium openapi-spec-validator aiosmtpd schemathesis==4.32.5
fi
