/**
 * The load generator, run in its own process so that its CPU time is measured
 * apart from the services and the harness. It drives one URL for a warm-up, then
 * (from when the parent says "go") the measured run, recording every response's
 * latency at full resolution, in one of two ways:
 *   - closed loop (autocannon): `connections` clients, each sending its next
 *     request when the last is answered; what the chain sustains at saturation;
 *   - open loop (`ratePerSecond` set): a request due every 1/rate s whether or not
 *     earlier ones are answered, as independent users arrive; each latency counts
 *     from when its request was due, so a stalled server cannot hide its stall by
 *     slowing the load down.
 *
 * Protocol over the IPC channel: child -> {type: 'ready'}; parent -> {type: 'go'};
 * child -> {type: 'done', result}.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';

export interface LoadRequest {
  url: string;
  /** Closed loop: the clients; open loop: the most connections the pool opens. */
  connections: number;
  /** Open loop: requests per second; undefined: closed loop. */
  ratePerSecond?: number;
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

/** Counts responses into the warm-up until the parent says go, then into the measured run. */
class Recorder {
  readonly warmup: Phase = { completed: 0, ok: 0, non2xx: 0, errors: 0, timeouts: 0 };
  readonly measured: Phase = { completed: 0, ok: 0, non2xx: 0, errors: 0, timeouts: 0 };
  readonly latencies = new Latencies();
  measuring = false;
  cpuBefore = process.cpuUsage();
  started = process.hrtime.bigint();

  startMeasuring(): void {
    this.measuring = true;
    this.cpuBefore = process.cpuUsage();
    this.started = process.hrtime.bigint();
  }

  /** `measured`: whether the request counts in the measured run (default: whether it ended in it). */
  response(statusCode: number, latencyMs: number, measured = this.measuring): void {
    const phase = measured ? this.measured : this.warmup;
    phase.completed += 1;
    if (statusCode >= 200 && statusCode < 300) {
      phase.ok += 1;
      if (measured) this.latencies.push(latencyMs);
    } else {
      phase.non2xx += 1;
    }
  }

  error(timedOut: boolean, measured = this.measuring): void {
    const phase = measured ? this.measured : this.warmup;
    phase.errors += 1;
    if (timedOut) phase.timeouts += 1;
  }
}

/**
 * One autocannon run covering the warm-up and the measured run without a break,
 * so that connections stay open and the system is in its steady state (all
 * simulated users in step at the start is not) when measuring begins.
 */
function closedLoop(request: LoadRequest, recorder: Recorder): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        connections: request.connections,
        duration: request.warmupSeconds + request.durationSeconds,
        timeout: request.timeoutSeconds,
      },
      (error) => (error === null ? resolve() : reject(error)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) =>
      recorder.response(statusCode, responseTimeMs),
    );
    instance.on('reqError', (error: Error) => recorder.error(error.message === 'request timed out'));
  });
}

/** Requests due at a fixed rate over the warm-up and the measured run; waits for the last answers. */
async function openLoop(request: LoadRequest, rate: number, recorder: Recorder): Promise<void> {
  const url = new URL(request.url);
  const pool = new Pool(url.origin, { connections: request.connections });
  const timeoutMs = request.timeoutSeconds * 1000;
  const send = async (dueAt: number) => {
    // A request counts where it was due: answers to the warm-up's requests are not the measured run's.
    const measured = recorder.measuring;
    try {
      const response = await pool.request({
        method: 'GET',
        path: `${url.pathname}${url.search}`,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      recorder.response(response.statusCode, performance.now() - dueAt, measured);
    } catch (error) {
      recorder.error((error as { code?: string }).code?.endsWith('_TIMEOUT') === true, measured);
    }
  };
  const intervalMs = 1000 / rate;
  const endAt = performance.now() + (request.warmupSeconds + request.durationSeconds) * 1000;
  // Every request of the run (a few thousand at most), to wait for the last answers.
  const sent: Promise<void>[] = [];
  let dueAt = performance.now();
  while (dueAt < endAt) {
    // Timers fire late by up to a millisecond or so: send whatever has fallen due.
    while (dueAt <= performance.now() && dueAt < endAt) {
      sent.push(send(dueAt));
      dueAt += intervalMs;
    }
    await sleep(Math.max(0, dueAt - performance.now()));
  }
  await Promise.all(sent);
  await pool.close();
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? '{}') as LoadRequest;
  const recorder = new Recorder();
  process.once('message', () => recorder.startMeasuring());
  const announce = () => process.send?.({ type: 'ready' });
  if (request.warmupSeconds > 0) setTimeout(announce, request.warmupSeconds * 1000);
  else announce();

  if (request.ratePerSecond === undefined) await closedLoop(request, recorder);
  else await openLoop(request, request.ratePerSecond, recorder);
  const wallSeconds = Number(process.hrtime.bigint() - recorder.started) / 1e9;
  const cpu = process.cpuUsage(recorder.cpuBefore);
  if (!recorder.measuring) throw new Error('the run ended before the harness said go');

  const { measured } = recorder;
  const result: LoadResult = {
    completed: measured.completed,
    ok: measured.ok,
    non2xx: measured.non2xx,
    errors: measured.errors,
    timeouts: measured.timeouts,
    wallSeconds,
    rps: measured.ok / wallSeconds,
    latencyMs: recorder.latencies.summary(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    warmupCompleted: recorder.warmup.completed,
  };
  process.send?.({ type: 'done', result }, () => process.disconnect());
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
