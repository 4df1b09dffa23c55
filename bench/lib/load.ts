/**
 * The load generator, run in its own process so that its CPU time is measured
 * apart from the services and the harness. It drives one URL with autocannon:
 * a warm-up, then (from when the parent says "go") the measured run, recording
 * every response's latency at full resolution (autocannon's own histogram keeps
 * whole milliseconds, too coarse for sub-millisecond hops).
 *
 * Protocol over the IPC channel: child -> {type: 'ready'}; parent -> {type: 'go'};
 * child -> {type: 'done', result}.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  timeoutSeconds: number;
}

export interface LoadResult {
  /** Responses of the measured run, any status. */
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  wallSeconds: number;
  /** Completed 2xx responses per second of the measured run. */
  rps: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** CPU seconds the load generator used during the measured run (user + system). */
  cpuSeconds: number;
  /** Requests the warm-up completed (for the span accounting). */
  warmupCompleted: number;
}

class Latencies {
  private values = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  summary(): LoadResult['latencyMs'] {
    const sorted = this.values.subarray(0, this.length).sort();
    const at = (q: number) =>
      this.length === 0 ? 0 : (sorted[Math.min(this.length - 1, Math.floor(q * this.length))] ?? 0);
    let sum = 0;
    for (const value of sorted) sum += value;
    return {
      mean: this.length === 0 ? 0 : sum / this.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: this.length === 0 ? 0 : (sorted[this.length - 1] ?? 0),
    };
  }
}

interface Phase {
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/**
 * One autocannon run covering the warm-up and the measured run without a break,
 * so that connections stay open and the system is in its steady state (all
 * simulated users in step at the start is not) when measuring begins.
 */
async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as LoadRequest;
  const warmup: Phase = { completed: 0, ok: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const measured: Phase = { completed: 0, ok: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const latencies = new Latencies();
  let phase = warmup;
  let measuring = false;
  let cpuBefore = process.cpuUsage();
  let started = process.hrtime.bigint();

  const startMeasuring = () => {
    phase = measured;
    measuring = true;
    cpuBefore = process.cpuUsage();
    started = process.hrtime.bigint();
  };
  process.once('message', startMeasuring);
  const announce = () => process.send?.({ type: 'ready' });
  if (request.warmupSeconds > 0) setTimeout(announce, request.warmupSeconds * 1000);
  else announce();

  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        connections: request.connections,
        duration: request.warmupSeconds + request.durationSeconds,
        timeout: request.timeoutSeconds,
      },
      (error) => (error === null ? resolve() : reject(error)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      phase.completed += 1;
      if (statusCode >= 200 && statusCode < 300) {
        phase.ok += 1;
        if (measuring) latencies.push(responseTimeMs);
      } else {
        phase.non2xx += 1;
      }
    });
    instance.on('reqError', (error: Error) => {
      phase.errors += 1;
      if (error.message === 'request timed out') phase.timeouts += 1;
    });
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  if (!measuring) throw new Error('the run ended before the harness said go');

  const result: LoadResult = {
    completed: measured.completed,
    ok: measured.ok,
    non2xx: measured.non2xx,
    errors: measured.errors,
    timeouts: measured.timeouts,
    wallSeconds,
    rps: measured.ok / wallSeconds,
    latencyMs: latencies.summary(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    warmupCompleted: warmup.completed,
  };
  process.send?.({ type: 'done', result }, () => process.disconnect());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
