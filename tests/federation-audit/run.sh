#!/usr/bin/env bash
# Runs the federation-gateway-audit against Atrium's gateway binary.
#   make audit-federation AUDIT_DIR=/path/to/federation-gateway-audit [PUNISH=1] [SUITE=<id>]
# AUDIT_DIR is a checkout of graphql-hive/federation-gateway-audit prepared as described
# in docs/conformance.md (Node 24 on PATH, dependencies installed). The audit's code stays
# there; this script only installs Atrium's adapter into its gateways/ folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${AUDIT_DIR:?set AUDIT_DIR to a prepared federation-gateway-audit checkout}"
port=${AUDIT_PORT:-4300}

cargo build -q --manifest-path "$root/Cargo.toml" -p atrium-gateway --bin atrium-gateway
mkdir -p "$AUDIT_DIR/gateways/atrium"
cp "$here/gateway.json" "$AUDIT_DIR/gateways/atrium/gateway.json"
cp "$here/gateway-run.sh" "$AUDIT_DIR/gateways/atrium/run.sh"
export ATRIUM_GATEWAY_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/atrium-gateway"
export AUDIT_PORT=$port

cd "$AUDIT_DIR"
env_file=.env
original=$(cat "$env_file" 2>/dev/null || true)
trap 'printf "%s" "$original" > "$env_file"' EXIT
printf 'PUNISH_FOR_POOR_PLANS=%s' "${PUNISH:-0}" > "$env_file"

common=(--port "$port" --cwd ./gateways/atrium --run-script ./run.sh
        --graphql http://127.0.0.1:4310/graphql --healthcheck http://127.0.0.1:4310/health)
if [ -n "${SUITE:-}" ]; then
  npm start -- test-suite --test "$SUITE" --reporter tap "${common[@]}"
else
  npm start -- test --reporter dot "${common[@]}" | grep -Ev '^(xargs|Usage|Options| |$|For more|kill)'
fi
