#!/usr/bin/env bash
# Makes throw-away TLS material for the interop tests in DIR: a CA, a server certificate for
# localhost/127.0.0.1 (valid, and one that expired in 2020), a client certificate, and a second
# CA that signed none of them. Nothing here protects anything.
set -euo pipefail
dir="$1"
mkdir -p "$dir"
cd "$dir"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=Forge Interop CA" -out ca.pem
key other-ca.key
openssl req -x509 -new -key other-ca.key -days 3650 -subj "/CN=Some Other CA" -out other-ca.pem
printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" > leaf.ext
for name in server client; do
    key $name.key
    openssl req -new -key $name.key -subj "/CN=forge-$name" -out $name.csr
    openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -extfile leaf.ext -out $name.pem 2>/dev/null
done
# An expired server certificate: `openssl ca` takes explicit start and end dates.
key expired.key
openssl req -new -key expired.key -subj "/CN=forge-expired" -out expired.csr
cat > ca.cnf <<CNF
[ ca ]
default_ca = interop
[ interop ]
database = index.txt
serial = serial
new_certs_dir = .
default_md = sha256
policy = any
copy_extensions = none
[ any ]
commonName = supplied
CNF
: > index.txt
echo 1000 > serial
openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem -notext \
    -startdate 20200101000000Z -enddate 20200201000000Z -extfile leaf.ext 2>/dev/null
rm -f ./*.csr leaf.ext ca.cnf index.txt* serial* ca.srl ./*.pem.old 1000.pem 2>/dev/null || true
