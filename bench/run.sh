#!/usr/bin/env bash
# Load benchmark of the gateway: the four benchmark subgraphs, the nested query of
# bench/query.graphql, wrk as load generator, processes pinned to separate cores.
#
#   bench/run.sh                                   # the gateway built from this checkout
#   bench/run.sh before=/tmp/gw-old after=target/release/atrium-gateway   # side by side
#   bench/run.sh "dedup-off=env ATRIUM_GATEWAY__SUBGRAPH_DEDUPLICATION=false target/release/atrium-gateway" \
#                dedup-on=target/release/atrium-gateway                    # one setting on/off
#
# Each `label=command` is measured in turn against the same subgraphs in the same run;
# compare figures from one run only, never against numbers from another day.
#
# Environment: DURATION (30s), WARMUP (5s), CONNECTIONS (50), THREADS (2),
# GATEWAY_CPUS (0), SUBGRAPH_CPUS (1), LOAD_CPUS (1), OUT (target/bench).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-30s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-2}
OUT=${OUT:-target/bench}
CORES=$(nproc)
LAST_CORE=$((CORES - 1))
# With two cores the gateway gets one to itself; subgraphs and load share the other.
GATEWAY_CPUS=${GATEWAY_CPUS:-0}
SUBGRAPH_CPUS=${SUBGRAPH_CPUS:-$((LAST_CORE > 0 ? 1 : 0))-${LAST_CORE}}
LOAD_CPUS=${LOAD_CPUS:-$SUBGRAPH_CPUS}
GATEWAY_PORT=4200
BASE_PORT=4201
SUBGRAPHS=(accounts inventory products reviews)

# shellcheck source=bench/lib.sh
source bench/lib.sh
ensure_wrk

cargo build --release -p atrium-gateway -p atrium-bench
BIN=target/release
mkdir -p "$OUT"

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Supergraph from the subgraphs' own SDL, composed by Atrium's composer.
compose_args=()
for index in "${!SUBGRAPHS[@]}"; do
  name=${SUBGRAPHS[$index]}
  "$BIN/atrium-bench-subgraphs" print-schema "$name" > "$OUT/$name.graphql"
  compose_args+=(--subgraph "$name=http://127.0.0.1:$((BASE_PORT + index))/graphql=$OUT/$name.graphql")
done
"$BIN/atrium-gateway" compose "${compose_args[@]}" --output "$OUT/supergraph.graphql"

taskset -c "$SUBGRAPH_CPUS" "$BIN/atrium-bench-subgraphs" serve --base-port "$BASE_PORT" 2>"$OUT/subgraphs.log" &
PIDS+=($!)

export ATRIUM_GATEWAY__LISTEN="127.0.0.1:$GATEWAY_PORT"
export ATRIUM_GATEWAY__SUPERGRAPH_PATH="$OUT/supergraph.graphql"
export ATRIUM_GATEWAY__AUTH__DEV_KEY_PATH="$OUT/dev-signing-key.pem"
# The benchmark measures the engine: a single tenant at thousands of requests per second
# would only measure the per-tenant rate limiter's 429s.
export ATRIUM_GATEWAY__RATE_LIMITS__ENABLED=false
export RUST_LOG=${RUST_LOG:-warn}
TOKEN=$("$BIN/atrium-gateway" token --tenant ridgeline --role csm --ttl 86400)

BODY_FILE="$OUT/body.json"
"$BIN/atrium-bench-subgraphs" request-body > "$BODY_FILE"

cat > "$OUT/request.lua" <<'LUA'
local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
LUA
append_wrk_report "$OUT/request.lua"
export BENCH_BODY_FILE="$BODY_FILE" BENCH_TOKEN="$TOKEN"

wait_for_port() {
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  return 1
}
for index in "${!SUBGRAPHS[@]}"; do wait_for_port $((BASE_PORT + index)); done

CLOCK_TICKS=$(getconf CLK_TCK)

RESULTS="$OUT/results.md"
{
  echo "| Gateway | RPS | p50 ms | p95 ms | p99 ms | CPU-s / 1k req | peak RSS MB | response bytes | failed |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$RESULTS"

GATEWAYS=("$@")
[ ${#GATEWAYS[@]} -eq 0 ] && GATEWAYS=("atrium=$BIN/atrium-gateway")

for entry in "${GATEWAYS[@]}"; do
  label=${entry%%=*}
  binary=${entry#*=}  # a command: `binary` or `env KEY=VALUE binary`
  # Unquoted on purpose: a command may be `env KEY=VALUE binary`.
  # shellcheck disable=SC2086
  taskset -c "$GATEWAY_CPUS" $binary serve >"$OUT/gateway-$label.log" 2>&1 &
  gateway_pid=$!
  PIDS+=("$gateway_pid")
  wait_for_port "$GATEWAY_PORT"

  # One correct answer first: the benchmark is meaningless on error responses.
  curl -s -o "$OUT/response-$label.json" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    --data-binary "@$BODY_FILE" "http://127.0.0.1:$GATEWAY_PORT/graphql"
  response_bytes=$(wc -c < "$OUT/response-$label.json")
  if grep -q '"errors"' "$OUT/response-$label.json" || [ "$response_bytes" -lt 1000 ]; then
    echo "$label: the benchmark query failed: $(head -c 500 "$OUT/response-$label.json")" >&2
    exit 1
  fi

  taskset -c "$LOAD_CPUS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$OUT/request.lua" \
    "http://127.0.0.1:$GATEWAY_PORT/graphql" >/dev/null
  before=$(cpu_ticks "$gateway_pid")
  taskset -c "$LOAD_CPUS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$OUT/request.lua" \
    "http://127.0.0.1:$GATEWAY_PORT/graphql" | tee "$OUT/wrk-$label.txt"
  after=$(cpu_ticks "$gateway_pid")
  peak_rss_kb=$(peak_rss_kb "$gateway_pid")

  line=$(grep '^RESULT' "$OUT/wrk-$label.txt")
  value() { echo "$line" | tr ' ' '\n' | awk -F= -v key="$1" '$1 == key {print $2}'; }
  requests=$(value requests)
  duration_us=$(value duration_us)
  rps=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.0f", r / (d / 1e6)}')
  cpu_per_1k=$(awk -v t=$((after - before)) -v hz="$CLOCK_TICKS" -v r="$requests" \
    'BEGIN {printf "%.3f", (t / hz) / r * 1000}')
  rss_mb=$(awk -v kb="$peak_rss_kb" 'BEGIN {printf "%.0f", kb / 1024}')
  echo "| $label | $rps | $(value p50_ms) | $(value p95_ms) | $(value p99_ms) | $cpu_per_1k | $rss_mb |" \
    "$response_bytes | $(value errors) |" >> "$RESULTS"

  kill "$gateway_pid"
  wait "$gateway_pid" 2>/dev/null || true
done

echo
echo "duration $DURATION after $WARMUP warm-up, $CONNECTIONS connections, $THREADS wrk threads;" \
  "gateway on CPUs $GATEWAY_CPUS, subgraphs on $SUBGRAPH_CPUS, wrk on $LOAD_CPUS"
cat "$RESULTS"
