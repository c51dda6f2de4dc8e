# Shared by bench/run.sh and bench/platform.sh (sourced, not run): the load generator,
# its result line, and what is read from /proc about the measured process.

# wrk from Debian's packages, installed when missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    echo "installing wrk (Debian package)" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get install -y wrk >&2; else sudo apt-get install -y wrk >&2; fi
  fi
}

# Appends wrk's `done` hook to a Lua script: one `RESULT ...` line the scripts parse.
append_wrk_report() { # lua-file
  cat >> "$1" <<'LUA'

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
LUA
}

# CPU time (user + system) of a process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Peak resident memory of a process so far, in kB.
peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
