#!/usr/bin/env bash
# Regenerates the test-only TLS fixtures (a CA, a server certificate for localhost/127.0.0.1,
# a client certificate). These keys protect nothing; they exist so TLS tests run offline.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days $days \
    -subj "/CN=Forge Test CA" -keyout ca.key -out ca.pem
for name in server client; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=forge-$name" \
        -keyout $name.key -out $name.csr
    printf "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" > $name.ext
    openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
        -extfile $name.ext -out $name.pem
    rm $name.csr $name.ext
done
rm -f ca.srl ca.key
