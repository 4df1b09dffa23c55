import type { RunOptions } from './options';
import type { KindTally, NotableRequest, RollKind, Stats, Tally } from './stats';

/** Resources traffic-gen itself used during the run. */
export interface OwnUsage {
  /** process.cpuUsage() over the run, microseconds. */
  cpu: NodeJS.CpuUsage;
  /** performance.eventLoopUtilization() over the run, 0..1. */
  eventLoopUtilization: number;
}

export interface RunContext {
  options: RunOptions;
  dice: readonly string[];
  seed: number;
  elapsedMs: number;
  /** Open model: how long arrivals were sent for, and how long the last answers then took. */
  sending?: { sendingSeconds: number; drainSeconds: number };
  interrupted: boolean;
  usersCompleted: number;
  usage: OwnUsage;
}

interface TallyJson {
  requests: number;
  successes: number;
  failures: number;
  failures_by_status: Record<string, number>;
}

/** Single rolls and batches apart: their counts, the dice they rolled, their latency. */
interface KindJson extends TallyJson {
  dice: number;
  latency_ms: { p50: number; p99: number; max: number };
}

interface NotableJson {
  trace_id: string | null;
  die: string;
  kind: RollKind;
  dice: number;
  status: string;
  latency_ms: number;
}

/** The --json summary: one object, snake_case like the services' own JSON. */
export interface Summary extends TallyJson {
  model: 'users' | 'open';
  url: string;
  dice: string[];
  seed: number;
  settings: Record<string, unknown>;
  interrupted: boolean;
  elapsed_s: number;
  by_die: Record<string, TallyJson>;
  by_kind: Record<RollKind, KindJson>;
  latency_ms: { min: number; mean: number; p50: number; p95: number; p99: number; max: number };
  /**
   * `achieved` is over `window_s`: the whole run for the user model; for the open model,
   * the requests sent over the time they were sent for (not counting `drain_s`, the wait
   * for the last answers after the last arrival).
   */
  rate: { achieved: number; target: number | null; window_s: number };
  drain_s: number | null;
  users: { total: number; completed: number } | null;
  in_flight_abandoned: number;
  dropped: number;
  slowest: NotableJson | null;
  failed: NotableJson | null;
  own_usage: { cpu_user_ms: number; cpu_system_ms: number; cpu_share: number; event_loop_utilization: number };
}

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Statuses in a stable order: HTTP codes ascending, then the named failures. */
function sortedStatuses(byStatus: Record<string, number>): [string, number][] {
  return Object.entries(byStatus).sort(([a], [b]) => {
    const [na, nb] = [Number(a), Number(b)];
    if (Number.isNaN(na) || Number.isNaN(nb))
      return Number.isNaN(na) ? (Number.isNaN(nb) ? a.localeCompare(b) : 1) : -1;
    return na - nb;
  });
}

function tallyJson(tally: Tally): TallyJson {
  return {
    requests: tally.requests,
    successes: tally.successes,
    failures: tally.failures,
    failures_by_status: Object.fromEntries(sortedStatuses(tally.failuresByStatus)),
  };
}

function kindJson(tally: KindTally): KindJson {
  const { latency } = tally;
  return {
    ...tallyJson(tally),
    dice: tally.dice,
    latency_ms: { p50: round(latency.percentile(50)), p99: round(latency.percentile(99)), max: round(latency.max) },
  };
}

function notableJson(request: NotableRequest | undefined): NotableJson | null {
  if (request === undefined) return null;
  return {
    trace_id: request.traceId ?? null,
    die: request.die,
    kind: request.kind,
    dice: request.dice,
    status: request.status,
    latency_ms: round(request.latencyMs),
  };
}

function settings(options: RunOptions): Record<string, unknown> {
  const common = {
    timeout_s: options.timeoutSeconds,
    batch_share: options.batchShare,
    max_batch: options.maxBatchSize,
  };
  return options.model === 'users'
    ? { ...common, users: options.users, max_rolls: options.maxRolls, think_time_s: options.thinkTime }
    : {
        ...common,
        rate: options.rate,
        duration_s: options.durationSeconds ?? null,
        max_in_flight: options.maxInFlight,
      };
}

export function buildSummary(stats: Stats, context: RunContext): Summary {
  const { options, usage } = context;
  const seconds = context.elapsedMs / 1000;
  const { latency } = stats;
  const cpuMs = (usage.cpu.user + usage.cpu.system) / 1000;
  const window = context.sending?.sendingSeconds ?? seconds;
  const counted = context.sending === undefined ? stats.total.requests : stats.started;
  return {
    model: options.model,
    url: options.url,
    dice: [...context.dice],
    seed: context.seed,
    settings: settings(options),
    interrupted: context.interrupted,
    elapsed_s: round(seconds, 3),
    ...tallyJson(stats.total),
    by_die: Object.fromEntries([...stats.byDie].map(([die, tally]) => [die, tallyJson(tally)])),
    by_kind: { single: kindJson(stats.byKind.single), batch: kindJson(stats.byKind.batch) },
    latency_ms: {
      min: round(latency.min),
      mean: round(latency.mean),
      p50: round(latency.percentile(50)),
      p95: round(latency.percentile(95)),
      p99: round(latency.percentile(99)),
      max: round(latency.max),
    },
    rate: {
      achieved: window > 0 ? round(counted / window, 2) : 0,
      target: options.model === 'open' ? options.rate : null,
      window_s: round(window, 3),
    },
    drain_s: context.sending === undefined ? null : round(context.sending.drainSeconds, 3),
    users: options.model === 'users' ? { total: options.users, completed: context.usersCompleted } : null,
    in_flight_abandoned: stats.abandoned,
    dropped: stats.dropped,
    slowest: notableJson(stats.slowest),
    failed: notableJson(stats.failed),
    own_usage: {
      cpu_user_ms: round(usage.cpu.user / 1000),
      cpu_system_ms: round(usage.cpu.system / 1000),
      cpu_share: context.elapsedMs > 0 ? round(cpuMs / context.elapsedMs, 4) : 0,
      event_loop_utilization: round(usage.eventLoopUtilization, 4),
    },
  };
}

function statusList(byStatus: Record<string, number>): string {
  return Object.entries(byStatus)
    .map(([status, count]) => `${status} x ${count}`)
    .join(', ');
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${round((100 * part) / whole)}%`;
}

function ms(value: number): string {
  return value >= 1000 ? `${round(value / 1000, 2)} s` : `${round(value)} ms`;
}

function describeModel(summary: Summary): string {
  const s = summary.settings;
  const batches = `${round(Number(s.batch_share) * 100)}% ${summary.model === 'users' ? 'of users' : 'of arrivals'} roll batches of up to ${s.max_batch}`;
  if (summary.model === 'users') {
    const think = s.think_time_s as { min: number; max: number };
    const thinkText = think.max === 0 ? 'no think time' : `think time ${think.min}-${think.max} s`;
    return `user model: ${s.users} users, 1-${s.max_rolls} rolls each, ${thinkText}; ${batches}`;
  }
  const duration = s.duration_s === null ? 'until stopped' : `for ${s.duration_s} s`;
  return `open model: ${s.rate} req/s ${duration}, at most ${s.max_in_flight} in flight; ${batches}`;
}

/** "risky", or "risky x5" for a batch of five. */
function whatWasRolled({ die, kind, dice }: NotableJson): string {
  return kind === 'single' ? die : `${die} x${dice}`;
}

function describeRate(summary: Summary): string {
  const { achieved, target, window_s } = summary.rate;
  if (target === null) return `${summary.requests} in ${round(summary.elapsed_s)} s, ${achieved} req/s`;
  const drain = summary.drain_s === null ? '' : `, then ${round(summary.drain_s, 2)} s for the last answers`;
  return `${summary.requests} in ${round(summary.elapsed_s)} s: ${achieved} req/s over ${round(window_s, 2)} s of sending (target ${target})${drain}`;
}

/** The human summary: aligned label/value lines, trace ids ready to paste into Grafana. */
export function formatSummary(summary: Summary): string {
  const lines: [string, string][] = [];
  const add = (label: string, value: string) => lines.push([label, value]);
  add('Run', `${describeModel(summary)}${summary.interrupted ? '  (interrupted)' : ''}`);
  add('Target', `${summary.url}  dice ${summary.dice.join(', ')}`);
  add('Requests', describeRate(summary));
  if (summary.users !== null) add('Users', `${summary.users.completed} of ${summary.users.total} completed`);
  if (summary.dropped > 0) add('Dropped', `${summary.dropped} arrivals (too many requests in flight)`);
  if (summary.in_flight_abandoned > 0) add('Abandoned', `${summary.in_flight_abandoned} in flight when stopped`);
  add('Succeeded', `${summary.successes} (${percent(summary.successes, summary.requests)})`);
  add(
    'Failed',
    `${summary.failures} (${percent(summary.failures, summary.requests)})` +
      (summary.failures > 0 ? `: ${statusList(summary.failures_by_status)}` : ''),
  );
  const width = Math.max(4, ...Object.keys(summary.by_die).map((die) => die.length));
  add('By die', `${'die'.padEnd(width)}  requests  succeeded  failed`);
  for (const [die, tally] of Object.entries(summary.by_die)) {
    const byStatus = tally.failures > 0 ? `  (${statusList(tally.failures_by_status)})` : '';
    add(
      '',
      `${die.padEnd(width)}  ${String(tally.requests).padStart(8)}  ${String(tally.successes).padStart(9)}  ${String(tally.failures).padStart(6)}${byStatus}`,
    );
  }
  const { single, batch } = summary.by_kind;
  add('By kind', `kind    requests  succeeded  failed      dice  latency p50     p99`);
  for (const [kind, tally] of [
    ['single', single],
    ['batch', batch],
  ] as const) {
    add(
      '',
      `${kind.padEnd(6)}  ${String(tally.requests).padStart(8)}  ${String(tally.successes).padStart(9)}  ${String(tally.failures).padStart(6)}` +
        `  ${String(tally.dice).padStart(8)}  ${(tally.requests === 0 ? '-' : ms(tally.latency_ms.p50)).padStart(11)}` +
        `  ${(tally.requests === 0 ? '-' : ms(tally.latency_ms.p99)).padStart(7)}`,
    );
  }
  if (summary.requests > 0) {
    const l = summary.latency_ms;
    add('Latency', `p50 ${ms(l.p50)}  p95 ${ms(l.p95)}  p99 ${ms(l.p99)}  max ${ms(l.max)}  (mean ${ms(l.mean)})`);
  }
  if (summary.slowest !== null) {
    const { trace_id, status, latency_ms } = summary.slowest;
    add('Slowest', `trace ${trace_id ?? '(none)'}  ${ms(latency_ms)}, ${whatWasRolled(summary.slowest)}, ${status}`);
  }
  if (summary.failed !== null) {
    const { trace_id, status } = summary.failed;
    add('A failure', `trace ${trace_id ?? '(none)'}  ${whatWasRolled(summary.failed)}, ${status}`);
  }
  const usage = summary.own_usage;
  add(
    'Own usage',
    `CPU ${round(usage.cpu_share * 100)}% of one core, event loop busy ${round(usage.event_loop_utilization * 100)}%`,
  );
  add('Seed', `${summary.seed} (repeat the run with --seed ${summary.seed})`);
  const labelWidth = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(labelWidth)}  ${value}`).join('\n');
}
