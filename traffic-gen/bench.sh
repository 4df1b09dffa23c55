#!/usr/bin/env bash
# How fast can traffic-gen drive the system, and what does that cost traffic-gen?
#
# Starts die-service, dice-roller and frontend as `npm start` does (on free
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

RATES=${BENCH_RATES:-"100 150 200 250 300 350 400 450 500 600 700 800 1000 1200 1500"}
DURATION=${BENCH_DURATION:-10s}
MAX_P99_MS=${BENCH_MAX_P99_MS:-500}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Four ports free on 127.0.0.1 right now, chosen by the OS.
read -r DIE_PORT ROLLER_PORT FRONTEND_PORT OTLP_PORT < <(node -e '
  const net = require("node:net");
  Promise.all([0, 1, 2, 3].map(() => new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  }))).then((ports) => console.log(ports.join(" ")));
')
DIE_URL=http://127.0.0.1:$DIE_PORT
ROLLER_URL=http://127.0.0.1:$ROLLER_PORT
FRONTEND_URL=http://127.0.0.1:$FRONTEND_PORT

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
    node --max-semi-space-size=16 --require @dice-roller/telemetry/register dist/server.js >"$WORK/$name.log" 2>&1) &
  PIDS+=($!)
}
start_service die-service "$DIE_PORT"
DIE_PID=$!
start_service dice-roller "$ROLLER_PORT" DIE_SERVICE_URL="$DIE_URL" ROLL_DELAY_MAX_MS=0
ROLLER_PID=$!
start_service frontend "$FRONTEND_PORT" DIE_SERVICE_URL="$DIE_URL" DICE_ROLLER_URL="$ROLLER_URL"
FRONTEND_PID=$!

ready() {
  kill -0 "$DIE_PID" "$ROLLER_PID" "$FRONTEND_PID" 2>/dev/null && curl -fs "$FRONTEND_URL/ready" >/dev/null 2>&1
}
for _ in $(seq 100); do
  ready && break
  sleep 0.1
done
ready || { echo "the services did not become ready:" >&2; tail -n 5 "$WORK"/*.log >&2; exit 1; }

TICKS=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
share() { # ticks-before ticks-after wall-seconds -> % of one core
  awk -v t=$(($2 - $1)) -v hz="$TICKS" -v s="$3" 'BEGIN { printf "%.0f%%", 100 * t / hz / s }'
}
# All processes' CPU ticks, busy and total, summed over every core.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
machine_share() { # busy-before total-before busy-after total-after -> % of one core
  awk -v b=$(($3 - $1)) -v t=$(($4 - $2)) -v n="$(nproc)" 'BEGIN { printf "%.0f%%", 100 * n * b / t }'
}

traffic_gen() { # options...
  (cd "$ROOT/traffic-gen" && LOG_STREAM=stderr OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" \
    node --require @dice-roller/telemetry/register dist/cli.js --url "$FRONTEND_URL" "$@")
}

echo "Warming up (JIT, connection pools) ..."
traffic_gen --rate 100 --duration 3s --json >/dev/null 2>&1

echo
echo "$(nproc) CPUs, load average $(cut -d" " -f1-3 /proc/loadavg) before the runs, $(node --version), ROLL_DELAY_MAX_MS=0, $DURATION per rate, all dice"
printf '%8s %9s %9s %9s %9s %8s %12s %8s %12s %12s %12s %9s\n' \
  target achieved p50_ms p99_ms overload dropped traffic-gen tg_loop frontend dice-roller die-service machine
best=0
best_cpu=""
for rate in $RATES; do
  before=("$(cpu_ticks $FRONTEND_PID)" "$(cpu_ticks $ROLLER_PID)" "$(cpu_ticks $DIE_PID)")
  read -r machine_busy machine_total < <(machine_ticks)
  started=$(date +%s%N)
  traffic_gen --rate "$rate" --duration "$DURATION" --json >"$WORK/summary.json" 2>"$WORK/traffic-gen.log"
  wall_s=$(awk -v ns=$(($(date +%s%N) - started)) 'BEGIN { print ns / 1e9 }')
  after=("$(cpu_ticks $FRONTEND_PID)" "$(cpu_ticks $ROLLER_PID)" "$(cpu_ticks $DIE_PID)")
  read -r machine_busy_after machine_total_after < <(machine_ticks)
  read -r achieved p50 p99 overload dropped own own_loop sustained < <(node -e '
    const s = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const rate = Number(process.argv[2]), maxP99 = Number(process.argv[3]);
    const overload = ["timeout", "connection_error", "503", "504"]
      .reduce((sum, status) => sum + (s.failures_by_status[status] ?? 0), 0);
    const sustained = s.rate.achieved >= 0.95 * rate && s.dropped === 0 && overload === 0 && s.latency_ms.p99 <= maxP99;
    console.log(s.rate.achieved, s.latency_ms.p50, s.latency_ms.p99, overload, s.dropped,
      `${(100 * s.own_usage.cpu_share).toFixed(0)}%`, `${(100 * s.own_usage.event_loop_utilization).toFixed(0)}%`,
      sustained ? "yes" : "no");
  ' "$WORK/summary.json" "$rate" "$MAX_P99_MS")
  printf '%8s %9s %9s %9s %9s %8s %12s %8s %12s %12s %12s %9s\n' "$rate" "$achieved" "$p50" "$p99" "$overload" \
    "$dropped" "$own" "$own_loop" "$(share "${before[0]}" "${after[0]}" "$wall_s")" "$(share "${before[1]}" "${after[1]}" "$wall_s")" \
    "$(share "${before[2]}" "${after[2]}" "$wall_s")" \
    "$(machine_share "$machine_busy" "$machine_total" "$machine_busy_after" "$machine_total_after")"
  [[ $sustained == yes ]] || break
  best=$rate
  best_cpu="$own of one core (its event loop busy $own_loop)"
done

echo
if [[ $best == 0 ]]; then
  echo "No rate in ($RATES) was sustained."
else
  echo "Highest sustained rate: $best req/s; traffic-gen used $best_cpu at that rate."
fi
echo "CPU columns: % of one core over the run; 'machine' is every process on the machine together"
echo "(at most $((100 * $(nproc)))%), so what the other columns leave out is load from elsewhere."
echo "tg_loop: how busy traffic-gen's event loop was; near 100% traffic-gen would be the bottleneck."
echo "Reproduce one step against a system started with ROLL_DELAY_MAX_MS=0:"
echo "  npm run traffic -- --rate $((best > 0 ? best : 100)) --duration $DURATION --json"
echo "Reproduce the whole benchmark: BENCH_RATES=\"$RATES\" BENCH_DURATION=$DURATION traffic-gen/bench.sh"
