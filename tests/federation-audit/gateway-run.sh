#!/usr/bin/env bash
# Started by the audit runner once per suite, in <audit>/gateways/atrium: fetch the suite's
# supergraph, then run Atrium's gateway in the foreground. The audit's subgraphs know no
# tenants, so the dev profile's anonymous mode stands in for authentication.
npm start supergraph -- --cwd ./gateways/atrium --test "$1" --port "${AUDIT_PORT:-4300}"
export ATRIUM_GATEWAY__LISTEN=127.0.0.1:4310
export ATRIUM_GATEWAY__SUPERGRAPH_PATH=./supergraph.graphql
export ATRIUM_GATEWAY__AUTH__ALLOW_ANONYMOUS=true
# The audit measures correctness, not policy: no rate limits.
export ATRIUM_GATEWAY__RATE_LIMITS__ENABLED=false
export ATRIUM_GATEWAY__AUTH__DEV_KEY_PATH=/tmp/atrium-audit-key.pem
export ATRIUM_GATEWAY__LOG_FORMAT=json
export RUST_LOG=warn
exec "$ATRIUM_GATEWAY_BIN" serve
