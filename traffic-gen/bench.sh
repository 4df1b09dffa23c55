#!/usr/bin/env bash
# How fast can traffic-gen drive the system, and what does that cost traffic-gen?
#
# Starts die-service, dice-roller and frontend as `npm start` does (on their own
# ports, so a running system is left alone) with ROLL_DELAY_MAX_MS=0, plus an
# OTLP sink that accepts their spans as a collector would. Then runs traffic-gen's
# open model at increasing rates and stops at the first rate the system does not
# sustain. For each rate it prints the achieved rate, latency, failures that mean
# overload, and the CPU each process used (% of one core), traffic-gen's included.
#
# A rate is sustained when the achieved rate is at least 95% of the target, no
# arrival was dropped, no request timed out or found a service unavailable
# (timeout, connection_error, 503, 504), and p99 latency stays under BENCH_MAX_P99_MS.
# (500s are not overload: the risky and extreme dice fail by design.)
#
# Usage, from anywhere (Node 24 on PATH):
#   traffic-gen/bench.sh
#   BENCH_RATES="100 200 400" BENCH_DURATION=20s traffic-gen/bench.sh
set -euo pipefail

RATES=${BENCH_RATES:-"100 200 300 400 500 600 700 800 1000 1200 1500 2000"}
DURATION=${BENCH_DURATION:-10s}
MAX_P99_MS=${BENCH_MAX_P99_MS:-250}
BASE_PORT=${BENCH_BASE_PORT:-18303}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

DIE_URL=http://127.0.0.1:$BASE_PORT
ROLLER_URL=http://127.0.0.1:$((BASE_PORT + 1))
FRONTEND_URL=http://127.0.0.1:$((BASE_PORT + 2))
OTLP_PORT=$((BASE_PORT + 3))

(cd "$ROOT" && npm run build --silent)

# The OTLP sink: answers POST /v1/traces with 200, as a collector does, and keeps nothing.
node -e '
  require("node:http").createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  }).listen(Number(process.argv[1]), "127.0.0.1");
' "$OTLP_PORT" &
PIDS+=($!)

start_service() { # name port extra-env...
  local name=$1 port=$2
  shift 2
  (cd "$ROOT/$name" && exec env PORT="$port" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" "$@" \
    node --require @dice-roller/telemetry/register dist/server.js >"$WORK/$name.log" 2>&1) &
  PIDS+=($!)
}
start_service die-service "$BASE_PORT"
DIE_PID=$!
start_service dice-roller $((BASE_PORT + 1)) DIE_SERVICE_URL="$DIE_URL" ROLL_DELAY_MAX_MS=0
ROLLER_PID=$!
start_service frontend $((BASE_PORT + 2)) DIE_SERVICE_URL="$DIE_URL" DICE_ROLLER_URL="$ROLLER_URL"
FRONTEND_PID=$!

for _ in $(seq 100); do
  curl -fs "$FRONTEND_URL/ready" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$FRONTEND_URL/ready" >/dev/null || { echo "the services did not become ready; logs in $WORK" >&2; exit 1; }

TICKS=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

traffic_gen() { # options...
  (cd "$ROOT/traffic-gen" && LOG_STREAM=stderr OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" \
    node --require @dice-roller/telemetry/register dist/cli.js --url "$FRONTEND_URL" "$@")
}

echo "Warming up (JIT, connection pools) ..."
traffic_gen --rate 100 --duration 3s --json >/dev/null 2>&1

echo
echo "$(nproc) CPUs, $(node --version), ROLL_DELAY_MAX_MS=0, $DURATION per rate, all dice"
printf '%8s %9s %9s %9s %9s %8s %12s %12s %12s %12s\n' \
  target achieved p50_ms p99_ms overload dropped traffic-gen frontend dice-roller die-service
best=0
best_cpu=""
for rate in $RATES; do
  before=("$(cpu_ticks $FRONTEND_PID)" "$(cpu_ticks $ROLLER_PID)" "$(cpu_ticks $DIE_PID)")
  started=$(date +%s%N)
  traffic_gen --rate "$rate" --duration "$DURATION" --json >"$WORK/summary.json" 2>"$WORK/traffic-gen.log"
  wall_s=$(awk -v ns=$(($(date +%s%N) - started)) 'BEGIN { print ns / 1e9 }')
  after=("$(cpu_ticks $FRONTEND_PID)" "$(cpu_ticks $ROLLER_PID)" "$(cpu_ticks $DIE_PID)")
  share() { awk -v t=$(($2 - $1)) -v hz="$TICKS" -v s="$wall_s" 'BEGIN { printf "%.0f%%", 100 * t / hz / s }'; }
  read -r achieved p50 p99 overload dropped own sustained < <(node -e '
    const s = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const rate = Number(process.argv[2]), maxP99 = Number(process.argv[3]);
    const overload = ["timeout", "connection_error", "503", "504"]
      .reduce((sum, status) => sum + (s.failures_by_status[status] ?? 0), 0);
    const sustained = s.rate.achieved >= 0.95 * rate && s.dropped === 0 && overload === 0 && s.latency_ms.p99 <= maxP99;
    console.log(s.rate.achieved, s.latency_ms.p50, s.latency_ms.p99, overload, s.dropped,
      `${(100 * s.own_usage.cpu_share).toFixed(0)}%`, sustained ? "yes" : "no");
  ' "$WORK/summary.json" "$rate" "$MAX_P99_MS")
  printf '%8s %9s %9s %9s %9s %8s %12s %12s %12s %12s\n' "$rate" "$achieved" "$p50" "$p99" "$overload" "$dropped" \
    "$own" "$(share "${before[0]}" "${after[0]}")" "$(share "${before[1]}" "${after[1]}")" \
    "$(share "${before[2]}" "${after[2]}")"
  [[ $sustained == yes ]] || break
  best=$rate
  best_cpu=$own
done

echo
if [[ $best == 0 ]]; then
  echo "No rate in ($RATES) was sustained."
else
  echo "Highest sustained rate: $best req/s; traffic-gen used $best_cpu of one core at that rate."
fi
echo "CPU columns: % of one core over the run (the machine has $(nproc) cores in all)."
echo "Reproduce one step against a system started with ROLL_DELAY_MAX_MS=0:"
echo "  npm run traffic -- --rate $((best > 0 ? best : 100)) --duration $DURATION --json"
echo "Reproduce the whole benchmark: BENCH_RATES=\"$RATES\" BENCH_DURATION=$DURATION traffic-gen/bench.sh"
