#!/usr/bin/env bash
# Starts the five subgraph services and the gateway on embedded defaults (SQLite files
# under .atrium/data, no Redis), waits until each answers, prints how to query, and
# stops everything on Ctrl-C. `make run` builds the binaries first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where `cargo build` put the binaries (CARGO_TARGET_DIR moves them).
BIN=${ATRIUM_BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}
mkdir -p .atrium/data .atrium/logs
pids=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping Atrium..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop_all INT TERM EXIT

wait_for() { # name url
  for _ in $(seq 1 150); do
    if curl -fsS "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not become healthy; see .atrium/logs/$1.log" >&2
  exit 1
}

port=4001
for service in catalog delivery finance support analytics; do
  echo "starting $service on 127.0.0.1:$port"
  "$BIN/atrium-$service" serve >".atrium/logs/$service.log" 2>&1 &
  pids+=($!)
  port=$((port + 1))
done
port=4001
for service in catalog delivery finance support analytics; do
  wait_for "$service" "http://127.0.0.1:$port/health"
  port=$((port + 1))
done

echo "starting gateway on 127.0.0.1:4000"
"$BIN/atrium-gateway" serve >".atrium/logs/gateway.log" 2>&1 &
pids+=($!)
wait_for gateway "http://127.0.0.1:4000/health"

cat <<MSG

Atrium is running (dev profile, SQLite under .atrium/data, logs under .atrium/logs).

  GraphiQL (browser):  http://127.0.0.1:4000/graphql
  GraphQL endpoint:    POST http://127.0.0.1:4000/graphql

Get a token and query (in another terminal):

  TOKEN=\$(make -s token TENANT=ridgeline ROLE=csm)
  curl -s http://127.0.0.1:4000/graphql \\
    -H "authorization: Bearer \$TOKEN" -H 'content-type: application/json' \\
    -d '{"query":"{ tenant { name branding { productName } } customerAccounts(first: 3) { nodes { name health { score band } } } }"}'

Demo tenants: ridgeline, helix, veritas. To sign a contract and watch onboarding start,
see "A customer lifecycle, end to end" in README.md. Press Ctrl-C to stop everything.
MSG

# Exit (and stop the rest) as soon as any process dies.
wait -n "${pids[@]}"
echo "a process exited; see .atrium/logs/" >&2
