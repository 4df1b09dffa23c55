/**
 * Turns the runs into the report: Markdown tables (readable in a terminal and
 * ready to paste into bench/RESULTS.md), the two ratios between variants the
 * benchmark leads with, and the targets checked against the numbers.
 */
import { VARIANT_NAMES, type VariantId } from './chains';
import type { RunRecord } from './measure';

export interface Aggregate {
  variant: VariantId;
  connections: number;
  rounds: number;
  rps: number;
  p50: number;
  p99: number;
  meanMs: number;
  failures: number;
  loadCpuCores: number;
  harnessCpuCores: number;
  machineBusyCores: number;
  foreignCpuCores: number;
  services: {
    name: string;
    cpuCores: number;
    cpuMsPerRoll: number;
    lagP99Ms: number | undefined;
    rssMiB: number | undefined;
  }[];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function medianOf(values: (number | undefined)[]): number | undefined {
  const defined = values.filter((value): value is number => value !== undefined);
  return defined.length === 0 ? undefined : median(defined);
}

/** One line per variant and concurrency; with several rounds, the median of each number. */
export function aggregate(records: RunRecord[]): Aggregate[] {
  const groups = new Map<string, RunRecord[]>();
  for (const record of records) {
    const key = `${record.variant}/${record.connections}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return [...groups.values()].map((runs) => {
    const first = runs[0] as RunRecord;
    const last = runs[runs.length - 1] as RunRecord;
    return {
      variant: first.variant,
      connections: first.connections,
      rounds: runs.length,
      rps: median(runs.map((run) => run.load.rps)),
      p50: median(runs.map((run) => run.load.latencyMs.p50)),
      p99: median(runs.map((run) => run.load.latencyMs.p99)),
      meanMs: median(runs.map((run) => run.load.latencyMs.mean)),
      failures: runs.reduce((sum, run) => sum + failedCount(run.load), 0),
      loadCpuCores: median(runs.map((run) => run.loadCpuCores)),
      harnessCpuCores: median(runs.map((run) => run.harnessCpuCores)),
      machineBusyCores: median(runs.map((run) => run.machineBusyCores)),
      foreignCpuCores: median(runs.map((run) => run.foreignCpuCores)),
      services: first.services.map((service, index) => ({
        name: service.name,
        cpuCores: median(runs.map((run) => run.services[index]?.cpuCores ?? 0)),
        cpuMsPerRoll: median(runs.map((run) => run.services[index]?.cpuMsPerRoll ?? 0)),
        lagP99Ms: medianOf(runs.map((run) => run.services[index]?.lagP99Ms)),
        // Memory only grows with what a process has been through: the latest reading.
        rssMiB: last.services[index]?.rssMiB,
      })),
    };
  });
}

export function markdownTable(headers: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = headers.map((header, col) => Math.max(header.length, ...rows.map((row) => (row[col] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, col) => (rightAligned[col] ? cell.padStart(widths[col] ?? 0) : cell.padEnd(widths[col] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((width, col) => (rightAligned[col] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

const fixed = (value: number | undefined, digits: number) => (value === undefined ? 'n/a' : value.toFixed(digits));
const percent = (cores: number) => `${(100 * cores).toFixed(0)} %`;

function find(aggregates: Aggregate[], variant: VariantId, connections: number): Aggregate | undefined {
  return aggregates.find((a) => a.variant === variant && a.connections === connections);
}

export function throughputTable(aggregates: Aggregate[]): string {
  const rows = [...aggregates]
    .sort((a, b) => a.connections - b.connections || a.variant - b.variant)
    .map((a) => [
      String(a.connections),
      `${a.variant} ${VARIANT_NAMES[a.variant]}`,
      a.rps.toFixed(0),
      fixed(a.p50, 2),
      fixed(a.p99, 2),
      String(a.failures),
      percent(a.loadCpuCores),
      percent(a.harnessCpuCores),
      percent(a.machineBusyCores),
      percent(a.foreignCpuCores),
    ]);
  return markdownTable(
    [
      'c',
      'variant',
      'req/s',
      'p50 ms',
      'p99 ms',
      'failed',
      'load-gen CPU',
      'sink+harness CPU',
      'machine busy',
      'foreign CPU',
    ],
    rows,
    [true, false, true, true, true, true, true, true, true, true],
  );
}

/** Requests that got no 2xx answer (a timeout is one of the errors). */
export function failedCount(load: RunRecord['load']): number {
  return load.non2xx + load.errors;
}

/** CPU milliseconds per roll over the three services of a chain. */
export function cpuPerRoll(run: { services: { cpuMsPerRoll: number }[] }): number {
  return run.services.reduce((sum, service) => sum + service.cpuMsPerRoll, 0);
}

export interface Ratios {
  /** (1 - 2) / (4 - 3): what the project's telemetry costs per roll, over what the SDK's own spans cost. */
  telemetry: number | undefined;
  /** 2 / 5: what the project without its SDK costs per roll, over plain Express. */
  framework: number | undefined;
  /** (1 - 2) / (7 - 5): the telemetry ratio against the SDK's cost on Express (variant 7 is run only when asked for). */
  onExpress: number | undefined;
  /** (1 - 2) / (8 - 2): the project's telemetry over the stock SDK's tracing in the same services (1.0: it adds nothing). */
  overStockSdk: number | undefined;
}

/** The ratios from the CPU per roll of each variant (undefined where one is missing). */
export function ratios(cpu: (variant: VariantId) => number | undefined): Ratios {
  const [v1, v2, v3, v4, v5, v7, v8] = ([1, 2, 3, 4, 5, 7, 8] as const).map(cpu);
  const divide = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b <= 0 ? undefined : a / b;
  const difference = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a - b;
  return {
    telemetry: divide(difference(v1, v2), difference(v4, v3)),
    framework: divide(v2, v5),
    onExpress: divide(difference(v1, v2), difference(v7, v5)),
    overStockSdk: divide(difference(v1, v2), difference(v8, v2)),
  };
}

/**
 * The ratios of each round at concurrency `c`: the variants of a round ran one
 * after the other within a minute or two, so they share the machine's speed of
 * that moment, which drifts between rounds.
 */
export function roundRatios(records: RunRecord[], c: number): Ratios[] {
  const rounds = [...new Set(records.map((record) => record.round))].sort((a, b) => a - b);
  return rounds.map((round) =>
    ratios((variant) => {
      const run = records.find((r) => r.variant === variant && r.connections === c && r.round === round);
      return run === undefined ? undefined : cpuPerRoll(run);
    }),
  );
}

/** The median of each ratio over the rounds. */
export function medianRatios(perRound: Ratios[]): Ratios {
  const pick = (key: keyof Ratios) => medianOf(perRound.map((r) => r[key]));
  return {
    telemetry: pick('telemetry'),
    framework: pick('framework'),
    onExpress: pick('onExpress'),
    overStockSdk: pick('overStockSdk'),
  };
}

/** Per concurrency: the ratios, the median of the rounds and each round's, then req/s and p99 ratios. */
export function ratioTable(aggregates: Aggregate[], records: RunRecord[], concurrency: number[]): string {
  const rows = concurrency.map((c) => {
    const [v1, v2, v3, v4, v5] = ([1, 2, 3, 4, 5] as const).map((variant) => find(aggregates, variant, c));
    const perRound = roundRatios(records, c);
    const median = medianRatios(perRound);
    const ratio = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
    const list = (pick: (r: Ratios) => number | undefined) => perRound.map((r) => fixed(pick(r), 2)).join(' ');
    return [
      String(c),
      fixed(median.telemetry, 2),
      list((r) => r.telemetry),
      fixed(median.framework, 2),
      list((r) => r.framework),
      fixed(median.onExpress, 2),
      fixed(median.overStockSdk, 2),
      list((r) => r.overStockSdk),
      ratio(v1?.rps, v3?.rps),
      ratio(v1?.rps, v2?.rps),
      ratio(v2?.rps, v5?.rps),
      ratio(v4?.rps, v3?.rps),
      ratio(v1?.p99, v3?.p99),
    ];
  });
  return markdownTable(
    [
      'c',
      'telemetry ratio (1-2)/(4-3), median',
      'per round',
      'framework ratio 2/5, median',
      'per round',
      '(1-2)/(7-5), median',
      '(1-2)/(8-2), median',
      'per round',
      'req/s 1/3',
      'req/s 1/2',
      'req/s 2/5',
      'req/s 4/3',
      'p99 1/3',
    ],
    rows,
    [true, true, false, true, false, true, true, false, true, true, true, true, true],
  );
}

/** CPU per roll of each variant, per concurrency: what the ratios are made of. */
export function cpuTable(aggregates: Aggregate[], concurrency: number[]): string {
  const variants = [...new Set(aggregates.map((a) => a.variant))].sort((a, b) => a - b);
  return markdownTable(
    ['c', ...variants.map((variant) => `${variant} ${VARIANT_NAMES[variant]}`)],
    concurrency.map((c) => [
      String(c),
      ...variants.map((variant) => {
        const found = find(aggregates, variant, c);
        return found === undefined ? 'n/a' : cpuPerRoll(found).toFixed(3);
      }),
    ]),
    [true, ...variants.map(() => true)],
  );
}

/** The open-loop scenario: one row per variant. */
export function rateTable(records: RunRecord[], ratePerSecond: number): string {
  return markdownTable(
    [
      'variant',
      'due/s',
      'answered/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'failed',
      'loop delay p99 ms (die, roller, frontend)',
      'CPU ms/roll',
    ],
    records.map((record) => [
      `${record.variant} ${VARIANT_NAMES[record.variant]}`,
      String(ratePerSecond),
      (record.load.completed / record.load.wallSeconds).toFixed(1),
      record.load.latencyMs.p50.toFixed(2),
      record.load.latencyMs.p99.toFixed(2),
      record.load.latencyMs.max.toFixed(1),
      String(failedCount(record.load)),
      record.services.map((service) => fixed(service.lagP99Ms, 1)).join(', '),
      cpuPerRoll(record).toFixed(3),
    ]),
    [false, true, true, true, true, true, true, false, true],
  );
}

export function serviceTable(aggregates: Aggregate[]): string {
  const rows: string[][] = [];
  for (const a of [...aggregates].sort((x, y) => x.connections - y.connections || x.variant - y.variant)) {
    for (const service of a.services) {
      rows.push([
        String(a.connections),
        String(a.variant),
        service.name,
        percent(service.cpuCores),
        fixed(service.cpuMsPerRoll, 3),
        fixed(service.lagP99Ms, 1),
        fixed(service.rssMiB, 0),
      ]);
    }
  }
  return markdownTable(['c', 'variant', 'service', 'CPU', 'CPU ms/roll', 'loop delay p99 ms', 'RSS MiB'], rows, [
    true,
    true,
    false,
    true,
    true,
    true,
    true,
  ]);
}

export interface UsersRow {
  variant: VariantId;
  users: number;
  achieved: number;
  bound: number;
  meanMs: number;
  p99Ms: number;
  failures: number;
  lagP99Ms: (number | undefined)[];
  loadCpuCores: number;
  foreignCpuCores: number;
}

export function usersRows(records: RunRecord[], meanDelaySeconds: number): UsersRow[] {
  return records.map((record) => ({
    variant: record.variant,
    users: record.connections,
    achieved: record.load.completed / record.load.wallSeconds,
    bound: record.connections / meanDelaySeconds,
    meanMs: record.load.latencyMs.mean,
    p99Ms: record.load.latencyMs.p99,
    failures: failedCount(record.load),
    lagP99Ms: record.services.map((service) => service.lagP99Ms),
    loadCpuCores: record.loadCpuCores,
    foreignCpuCores: record.foreignCpuCores,
  }));
}

export function usersTable(rows: UsersRow[]): string {
  return markdownTable(
    [
      'variant',
      'users N',
      'rolls/s',
      'bound N/0.5 s',
      'achieved/bound',
      'mean latency ms',
      'N/mean latency',
      'p99 ms',
      'failed',
      'loop delay p99 ms (die, roller, frontend)',
      'foreign CPU',
    ],
    rows.map((row) => [
      String(row.variant),
      String(row.users),
      row.achieved.toFixed(1),
      row.bound.toFixed(0),
      row.achieved === 0 ? '0' : (row.achieved / row.bound).toFixed(3),
      row.meanMs.toFixed(1),
      (row.users / (row.meanMs / 1000)).toFixed(1),
      row.p99Ms.toFixed(1),
      String(row.failures),
      row.lagP99Ms.map((lag) => fixed(lag, 1)).join(', '),
      percent(row.foreignCpuCores),
    ]),
    [true, true, true, true, true, true, true, true, true, false, true],
  );
}

export interface Target {
  name: string;
  value: string;
  met: boolean | undefined;
}

/** The targets, judged on what this run measured (undefined: not measured). */
export function targets(
  aggregates: Aggregate[],
  records: RunRecord[],
  rateRecords: RunRecord[],
  users: UsersRow[],
): Target[] {
  const result: Target[] = [];
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, digits = 2) =>
    result.push({ name, value: fixed(value, digits), met: value === undefined ? undefined : ok(value) });
  const atFifty = medianRatios(roundRatios(records, 50));
  check('c=50: telemetry ratio (1 - 2) / (4 - 3), median of the rounds, <= 1.3', atFifty.telemetry, (v) => v <= 1.3);
  check('c=50: framework ratio 2 / 5, median of the rounds, <= 1.4', atFifty.framework, (v) => v <= 1.4);
  const p99 = (variant: VariantId) => rateRecords.find((r) => r.variant === variant)?.load.latencyMs.p99;
  const [rate1, rate4] = [p99(1), p99(4)];
  check(
    'fixed rate: p99 of 1 / p99 of 4 <= 2',
    rate1 === undefined || rate4 === undefined ? undefined : rate1 / rate4,
    (v) => v <= 2,
  );
  const maxConnections = Math.max(0, ...aggregates.map((a) => a.connections));
  const project = aggregates.filter((a) => a.connections === maxConnections && [1, 2, 6].includes(a.variant));
  const rss = project.flatMap((a) => a.services.map((s) => s.rssMiB ?? 0));
  check(
    `RSS of every project service after the c=${maxConnections} run < 200 MiB`,
    rss.length === 0 ? undefined : Math.max(...rss),
    (v) => v < 200,
    0,
  );
  for (const n of [50, 200]) {
    const row = users.find((u) => u.variant === 1 && u.users === n);
    check(`users N=${n}: rolls/s >= 0.95 x N / 0.5 s`, row && row.achieved / row.bound, (v) => v >= 0.95, 3);
  }
  return result;
}

export function targetTable(list: Target[]): string {
  return markdownTable(
    ['target', 'measured', 'met'],
    list.map((target) => [
      target.name,
      target.value,
      target.met === undefined ? 'not measured' : target.met ? 'yes' : 'NO',
    ]),
    [false, true, false],
  );
}
