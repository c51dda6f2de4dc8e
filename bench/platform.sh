#!/usr/bin/env bash
# Load benchmark of the gateway on the real platform: the five services on fresh SQLite
# files with the demo data, the committed supergraph with its `@cacheControl` hints, a
# dashboard token of one tenant, wrk as load generator, processes pinned to separate cores.
# Made to measure the response cache where users meet it; any gateway setting compares
# the same way.
#
#   bench/platform.sh                  # cache-off and cache-on, the gateway of this checkout
#   bench/platform.sh "cache-off=env ATRIUM_GATEWAY__RESPONSE_CACHE__ENABLED=false target/release/atrium-gateway" \
#                     cache-on=target/release/atrium-gateway
#
# Each `label=command` (`serve` is appended) runs every scenario against the same services
# in the same run, on a fresh gateway each time. The response cache's entity level is on
# unless a command says ATRIUM_GATEWAY__RESPONSE_CACHE__ENTITIES=false. Scenarios:
#   dashboard  bench/platform-dashboard.graphql, one query repeated: the cache's best case.
#   accounts   bench/platform-account.graphql with variables drawn at random per request:
#              one of the tenant's customer accounts × PAGE_SIZES ticket page sizes ×
#              PAGE_SIZES invoice page sizes, so answers are reused only when a draw repeats.
# Compare figures from one run only, never against numbers from another day.
#
# Environment: DURATION (20s), WARMUP (3s), CONNECTIONS (20), THREADS (2), PAGE_SIZES (50),
# SCENARIOS ("dashboard accounts"), TENANT (ridgeline), ROLE (finance), GATEWAY_CPUS (0),
# SERVICE_CPUS (1), LOAD_CPUS (1), GATEWAY_PORT (4300; the services take the next five),
# OUT (target/bench-platform).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
PAGE_SIZES=${PAGE_SIZES:-50}
SCENARIOS=${SCENARIOS:-dashboard accounts}
TENANT=${TENANT:-ridgeline}
ROLE=${ROLE:-finance}
OUT=${OUT:-target/bench-platform}
CORES=$(nproc)
LAST_CORE=$((CORES - 1))
# With two cores the gateway gets one to itself; services and load share the other.
GATEWAY_CPUS=${GATEWAY_CPUS:-0}
SERVICE_CPUS=${SERVICE_CPUS:-$((LAST_CORE > 0 ? 1 : 0))-${LAST_CORE}}
LOAD_CPUS=${LOAD_CPUS:-$SERVICE_CPUS}
GATEWAY_PORT=${GATEWAY_PORT:-4300}
# The subgraphs, in the order of the one list (their ports follow the gateway's here).
mapfile -t SERVICES < <(awk '$1 !~ /^#/ && NF {print $1}' services/subgraphs.list)
GATEWAY_URL="http://127.0.0.1:$GATEWAY_PORT"

# shellcheck source=bench/lib.sh
source bench/lib.sh
ensure_wrk
for tool in curl jq; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/platform.sh needs $tool" >&2; exit 1; }
done

cargo build --release --bins
BIN=target/release
mkdir -p "$OUT"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/atrium-bench-platform.XXXXXX")

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_health() { # name url pid
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$2/health" 2>/dev/null; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$1 did not become healthy; see $OUT/$1.log" >&2
  exit 1
}
for offset in 0 1 2 3 4 5; do
  if port_open $((GATEWAY_PORT + offset)); then
    echo "port $((GATEWAY_PORT + offset)) is taken; set GATEWAY_PORT to a free range of six" >&2
    exit 1
  fi
done

export RUST_LOG=${RUST_LOG:-warn}

# The services: own ports, fresh databases (seeded with the demo tenants on start), change
# events delivered to the benchmarked gateway.
SERVICE_PIDS=()
for index in "${!SERVICES[@]}"; do
  name=${SERVICES[$index]}
  prefix="ATRIUM_${name^^}"
  env "${prefix}__LISTEN=127.0.0.1:$((GATEWAY_PORT + 1 + index))" \
    "${prefix}__DATABASE_URL=sqlite://$DATA/$name.sqlite?mode=rwc" \
    "${prefix}__CHANGES__GATEWAY_URL=$GATEWAY_URL" \
    taskset -c "$SERVICE_CPUS" "$BIN/atrium-$name" serve >"$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  SERVICE_PIDS+=($!)
done
for index in "${!SERVICES[@]}"; do
  wait_for_health "${SERVICES[$index]}" "http://127.0.0.1:$((GATEWAY_PORT + 1 + index))" "${SERVICE_PIDS[$index]}"
done

export ATRIUM_GATEWAY__LISTEN="127.0.0.1:$GATEWAY_PORT"
export ATRIUM_GATEWAY__SUPERGRAPH_PATH=schema/supergraph.graphql
for index in "${!SERVICES[@]}"; do
  export "ATRIUM_GATEWAY__SUBGRAPH_URLS__${SERVICES[$index]^^}=http://127.0.0.1:$((GATEWAY_PORT + 1 + index))/graphql"
done
export ATRIUM_GATEWAY__AUTH__DEV_KEY_PATH="$DATA/dev-signing-key.pem"
export ATRIUM_GATEWAY__AUTH__API_KEYS_DIRECTORY="$DATA/api-keys"
export ATRIUM_GATEWAY__PERSISTED_DOCUMENTS__DIRECTORY="$DATA/persisted"
# One tenant at thousands of requests per second would only measure the rate limiter's 429s.
export ATRIUM_GATEWAY__RATE_LIMITS__ENABLED=false
TOKEN=$("$BIN/atrium-gateway" token --tenant "$TENANT" --role "$ROLE" --client dashboard --ttl 86400)

jq -n --rawfile query bench/platform-dashboard.graphql '{query: $query}' > "$OUT/dashboard.json"
jq -Rs . bench/platform-account.graphql > "$OUT/account-query.json"

cat > "$OUT/request.lua" <<'LUA'
-- BENCH_SCENARIO `dashboard`: one body. `accounts`: variables drawn per request.
local scenario = os.getenv("BENCH_SCENARIO")
local out = os.getenv("BENCH_OUT")
local function slurp(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/graphql-response+json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

local query, ids, page_sizes = nil, {}, tonumber(os.getenv("BENCH_PAGE_SIZES"))
if scenario == "dashboard" then
  wrk.body = slurp(out .. "/dashboard.json")
else
  query = slurp(out .. "/account-query.json"):gsub("%s+$", "")
  for id in slurp(out .. "/account-ids.txt"):gmatch("[^\n]+") do ids[#ids + 1] = id end
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (seed or 0))
end

if scenario ~= "dashboard" then
  function request()
    local body = string.format('{"query":%s,"variables":{"id":"%s","tickets":%d,"invoices":%d}}',
      query, ids[math.random(#ids)], math.random(page_sizes), math.random(page_sizes))
    return wrk.format(nil, nil, nil, body)
  end
end
LUA
append_wrk_report "$OUT/request.lua"
export BENCH_OUT="$OUT" BENCH_TOKEN="$TOKEN" BENCH_PAGE_SIZES="$PAGE_SIZES"

post() { # body-file response-file headers-file
  curl -sS -o "$2" -D "$3" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
    -H 'Accept: application/graphql-response+json' --data-binary "@$1" "$GATEWAY_URL/graphql"
}
cache_header() { awk -F': *' 'tolower($1) == "x-atrium-cache" {gsub(/\r/, "", $2); print $2}' "$1"; }
services_cpu_ticks() {
  local total=0
  for pid in "${SERVICE_PIDS[@]}"; do total=$((total + $(cpu_ticks "$pid"))); done
  echo "$total"
}
# Cache lookups (`response` or `entity`) by result from the gateway's Prometheus endpoint.
cache_lookups() { # kind result
  curl -fsS "$GATEWAY_URL/metrics" |
    awk -v kind="$1" -v result="$2" '/^atrium_response_cache_lookups/ && index($0, "kind=\"" kind "\"") \
      && index($0, "result=\"" result "\"") {sum += $NF} END {printf "%d", sum}'
}
lookup_counts() { # kind -> "hits misses"
  echo "$(cache_lookups "$1" hit) $(cache_lookups "$1" miss)"
}
hit_share() { # "hits misses" before, "hits misses" after
  awk -v before="$1" -v after="$2" 'BEGIN {
    split(before, b, " "); split(after, a, " ")
    hits = a[1] - b[1]; lookups = hits + a[2] - b[2]
    if (lookups > 0) printf "%.1f %%", 100 * hits / lookups; else print "–" }'
}
CLOCK_TICKS=$(getconf CLK_TCK)

RESULTS="$OUT/results.md"
{
  echo "| Gateway | Scenario | RPS | p50 ms | p95 ms | p99 ms | gateway CPU-s / 1k req | services CPU-s / 1k req | gateway peak RSS MB | 2nd request | response hits | entity hits | failed |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
} > "$RESULTS"

GATEWAYS=("$@")
if [ ${#GATEWAYS[@]} -eq 0 ]; then
  GATEWAYS=("cache-off=env ATRIUM_GATEWAY__RESPONSE_CACHE__ENABLED=false $BIN/atrium-gateway"
    "cache-on=$BIN/atrium-gateway")
fi

for entry in "${GATEWAYS[@]}"; do
  label=${entry%%=*}
  command=${entry#*=}  # `binary` or `env KEY=VALUE binary`
  [ "${command##* }" = serve ] || command="$command serve"
  for scenario in $SCENARIOS; do
    run="$label-$scenario"
    # Unquoted on purpose: a command may be `env KEY=VALUE binary serve`.
    # shellcheck disable=SC2086
    taskset -c "$GATEWAY_CPUS" $command >"$OUT/gateway-$run.log" 2>&1 &
    gateway_pid=$!
    PIDS+=("$gateway_pid")
    wait_for_health "gateway-$run" "$GATEWAY_URL" "$gateway_pid"

    # Correct answers first: the benchmark is meaningless on error responses. The same
    # request twice shows what the cache does with a repeat.
    case $scenario in
      dashboard)
        body="$OUT/dashboard.json"
        check='.errors == null and (.data.tenant.name | length) > 0 and (.data.customerAccounts.nodes | length) > 0
          and all(.data.customerAccounts.nodes[]; .openBalance != null and .health.band != null)'
        ;;
      accounts)
        ids_body="$OUT/account-ids-request.json"
        echo '{"query":"{ customerAccounts(first: 100) { nodes { id } } }"}' > "$ids_body"
        post "$ids_body" "$OUT/account-ids-response.json" "$OUT/account-ids-headers.txt"
        jq -r '.data.customerAccounts.nodes[].id' "$OUT/account-ids-response.json" > "$OUT/account-ids.txt"
        ACCOUNT_COUNT=$(wc -l < "$OUT/account-ids.txt")
        body="$OUT/account-first.json"
        jq -c --slurpfile query "$OUT/account-query.json" --arg id "$(head -n 1 "$OUT/account-ids.txt")" \
          '{query: $query[0], variables: {id: $id, tickets: 5, invoices: 5}}' <<< '{}' > "$body"
        check='.errors == null and .data.customerAccount.openBalance != null and .data.customerAccount.health.band != null'
        ;;
      *) echo "unknown scenario $scenario (dashboard, accounts)" >&2; exit 1 ;;
    esac
    for attempt in first second; do
      post "$body" "$OUT/response-$run.json" "$OUT/headers-$run-$attempt.txt"
      if ! jq -e "$check" "$OUT/response-$run.json" >/dev/null; then
        echo "$run: the benchmark query failed: $(head -c 500 "$OUT/response-$run.json")" >&2
        exit 1
      fi
    done
    second=$(cache_header "$OUT/headers-$run-second.txt")

    BENCH_SCENARIO=$scenario taskset -c "$LOAD_CPUS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" \
      -s "$OUT/request.lua" "$GATEWAY_URL/graphql" >/dev/null
    responses_before=$(lookup_counts response)
    entities_before=$(lookup_counts entity)
    before=$(cpu_ticks "$gateway_pid")
    services_before=$(services_cpu_ticks)
    BENCH_SCENARIO=$scenario taskset -c "$LOAD_CPUS" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
      --latency -s "$OUT/request.lua" "$GATEWAY_URL/graphql" | tee "$OUT/wrk-$run.txt"
    after=$(cpu_ticks "$gateway_pid")
    services_after=$(services_cpu_ticks)
    response_hits=$(hit_share "$responses_before" "$(lookup_counts response)")
    entity_hits=$(hit_share "$entities_before" "$(lookup_counts entity)")
    peak_rss_kb=$(peak_rss_kb "$gateway_pid")

    line=$(grep '^RESULT' "$OUT/wrk-$run.txt")
    value() { echo "$line" | tr ' ' '\n' | awk -F= -v key="$1" '$1 == key {print $2}'; }
    requests=$(value requests)
    rps=$(awk -v r="$requests" -v d="$(value duration_us)" 'BEGIN {printf "%.0f", r / (d / 1e6)}')
    per_1k() { awk -v t="$1" -v hz="$CLOCK_TICKS" -v r="$requests" 'BEGIN {printf "%.3f", (t / hz) / r * 1000}'; }
    rss_mb=$(awk -v kb="$peak_rss_kb" 'BEGIN {printf "%.0f", kb / 1024}')
    echo "| $label | $scenario | $rps | $(value p50_ms) | $(value p95_ms) | $(value p99_ms) |" \
      "$(per_1k $((after - before))) | $(per_1k $((services_after - services_before))) | $rss_mb |" \
      "${second:-none} | $response_hits | $entity_hits | $(value errors) |" >> "$RESULTS"

    kill "$gateway_pid"
    wait "$gateway_pid" 2>/dev/null || true
  done
done

echo
echo "duration $DURATION after $WARMUP warm-up, $CONNECTIONS connections, $THREADS wrk threads;" \
  "tenant $TENANT, role $ROLE, dashboard client; accounts: ${ACCOUNT_COUNT:-0} ids ×" \
  "$PAGE_SIZES × $PAGE_SIZES page sizes; gateway on CPUs $GATEWAY_CPUS, services on $SERVICE_CPUS, wrk on $LOAD_CPUS"
cat "$RESULTS"
