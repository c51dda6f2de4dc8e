#!/usr/bin/env bash
# End-to-end domain event delivery (docs/benchmarks.md#event-delivery): mutation commit →
# outbox → relay → transport → consumer effect, in one process on fresh databases.
#
#   bench/events.sh                       # the four figures below
#   EXTRA="--poll-interval-ms 50" bench/events.sh    # every run with other relay settings
#
# Figures, for PostgreSQL + Redis Streams and for SQLite + HTTP batches: latency at a fixed
# RATE, the same with POLL_COMPARE ms poll interval (empty: skipped) so a setting is
# compared within one run, a fixed AIM_RATE (empty: skipped), and throughput with the
# producers committing as fast as they can. Fixed rates run first: a throughput run leaves
# the database server flushing tens of thousands of rows, which would slow the next run.
# Compare figures from one run only, never against numbers from another day.
#
# Environment: DURATION (20 s), WARMUP (5 s), RATE (500), POLL_COMPARE (50), AIM_RATE
# (2000), COOLDOWN (5 s between runs), EXTRA (more flags for every run), OUT
# (target/bench-events). PostgreSQL at ATRIUM_BENCH_POSTGRES_URL, Redis at
# ATRIUM_BENCH_REDIS_URL (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
RATE=${RATE:-500}
POLL_COMPARE=${POLL_COMPARE-50}
AIM_RATE=${AIM_RATE-2000}
COOLDOWN=${COOLDOWN:-5}
EXTRA=${EXTRA:-}
OUT=${OUT:-target/bench-events}
TARGET=${CARGO_TARGET_DIR:-target}

cargo build --release -p atrium-bench --bin atrium-bench-events
BIN="$TARGET/release/atrium-bench-events"
mkdir -p "$OUT"
RESULTS="$OUT/results.md"

load_before=$(uptime)
{
  echo "# Event delivery"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, ${DURATION} s runs (${WARMUP} s warm-up excluded)."
  echo "Load before: ${load_before##*load average: }"
  echo
  "$BIN" --markdown-header
} > "$RESULTS"

run() {
  sleep "$COOLDOWN"
  # shellcheck disable=SC2086
  "$BIN" --duration "$DURATION" --warmup "$WARMUP" --append "$RESULTS" $EXTRA "$@"
}

for setup in "--database postgres --transport redis" "--database sqlite --transport http"; do
  # shellcheck disable=SC2086
  run $setup --rate "$RATE"
  if [ -n "$POLL_COMPARE" ]; then
    # shellcheck disable=SC2086
    run $setup --rate "$RATE" --poll-interval-ms "$POLL_COMPARE"
  fi
done
for setup in "--database postgres --transport redis" "--database sqlite --transport http"; do
  if [ -n "$AIM_RATE" ]; then
    # shellcheck disable=SC2086
    run $setup --rate "$AIM_RATE"
  fi
  # shellcheck disable=SC2086
  run $setup --rate 0
done

load_after=$(uptime)
{
  echo
  echo "Load after: ${load_after##*load average: }"
  echo
  echo "committed/s and applied/s: events committed by the producers and effects applied by"
  echo "the consumer per second in the measured window; drain/s: effects per second after"
  echo "production stopped (shown when a backlog of 1000+ was left); latency: effect time −"
  echo "occurred_at of events that occurred in the window."
} >> "$RESULTS"
echo
cat "$RESULTS"
