#!/usr/bin/env bash
# Starts the subgraph services of services/subgraphs.list and the gateway on embedded
# defaults (SQLite files under .atrium/data, no Redis), waits until each answers, prints how
# to query, and stops everything on Ctrl-C. A process that exits is reported and restarted
# with backoff while the others keep serving, so a fault can be tried by killing one
# (`pkill -f 'atrium-support serve'`). `make run` builds the binaries first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where `cargo build` put the binaries (CARGO_TARGET_DIR moves them).
BIN=${ATRIUM_BIN_DIR:-${CARGO_TARGET_DIR:-target}/debug}
mkdir -p .atrium/data .atrium/logs
supervisors=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping Atrium..."
  for pid in "${supervisors[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop_all INT TERM EXIT

# Runs `atrium-<name> serve` until told to stop; when it exits on its own, says so and
# starts it again after 1 s, doubling up to 30 s while it keeps failing within a minute.
supervise() { # name
  local name=$1 backoff=1 child="" started status
  trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
  : >".atrium/logs/$name.log"
  while true; do
    started=$SECONDS
    "$BIN/atrium-$name" serve >>".atrium/logs/$name.log" 2>&1 &
    child=$!
    status=0
    wait "$child" || status=$?
    if ((SECONDS - started >= 60)); then backoff=1; fi
    echo "atrium: $name exited (status $status); restarting in ${backoff}s (log: .atrium/logs/$name.log)" >&2
    sleep "$backoff" &
    wait $! || true
    backoff=$((backoff < 30 ? backoff * 2 : 30))
  done
}

wait_for() { # name url
  for _ in $(seq 1 150); do
    if curl -fsS "$2" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  echo "$1 did not become healthy; see .atrium/logs/$1.log" >&2
  exit 1
}

# name port, one per line, from the one subgraph list.
subgraphs=$(awk '$1 !~ /^#/ && NF {print $1, $2}' services/subgraphs.list)

while read -r service port; do
  echo "starting $service on 127.0.0.1:$port"
  supervise "$service" &
  supervisors+=($!)
done <<<"$subgraphs"
while read -r service port; do
  wait_for "$service" "http://127.0.0.1:$port/health"
done <<<"$subgraphs"

echo "starting gateway on 127.0.0.1:4000"
supervise gateway &
supervisors+=($!)
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
see "A customer lifecycle, end to end" in README.md. A process that exits is restarted
(try \`pkill -f 'atrium-support serve'\`). Press Ctrl-C to stop everything.
MSG

# Until Ctrl-C: the supervisors keep every process running.
wait
