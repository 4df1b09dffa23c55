/**
 * Turns the runs into the report: Markdown tables (readable in a terminal and
 * ready to paste into bench/RESULTS.md), ratios between variants, and the floors
 * of issue 8 checked against the numbers.
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

function median(values: number[]): number {
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
      failures: runs.reduce((sum, run) => sum + run.load.non2xx + run.load.errors + run.load.timeouts, 0),
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

export function ratioTable(aggregates: Aggregate[], concurrency: number[]): string {
  const rows = concurrency.map((c) => {
    const [v1, v2, v3, v4] = [1, 2, 3, 4].map((variant) => find(aggregates, variant as VariantId, c));
    const ratio = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2);
    return [
      String(c),
      ratio(v1?.rps, v3?.rps),
      ratio(v1?.rps, v2?.rps),
      ratio(v2?.rps, v3?.rps),
      ratio(v4?.rps, v3?.rps),
      ratio(v1?.p99, v3?.p99),
      ratio(v1?.p99, v2?.p99),
    ];
  });
  return markdownTable(['c', 'req/s 1/3', 'req/s 1/2', 'req/s 2/3', 'req/s 4/3', 'p99 1/3', 'p99 1/2'], rows, [
    true,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
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
    failures: record.load.non2xx + record.load.errors + record.load.timeouts,
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

export interface Floor {
  name: string;
  value: string;
  met: boolean | undefined;
}

/** The floors of issue 8, judged on what this run measured (undefined: not measured). */
export function floors(aggregates: Aggregate[], users: UsersRow[]): Floor[] {
  const result: Floor[] = [];
  const [v1, v2, v3] = [find(aggregates, 1, 50), find(aggregates, 2, 50), find(aggregates, 3, 50)];
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, digits = 2) =>
    result.push({ name, value: fixed(value, digits), met: value === undefined ? undefined : ok(value) });
  check('c=50: req/s of 1 / req/s of 3 >= 0.25', v1 && v3 && v1.rps / v3.rps, (v) => v >= 0.25);
  check('c=50: req/s of 1 / req/s of 2 >= 0.75', v1 && v2 && v1.rps / v2.rps, (v) => v >= 0.75);
  check('c=50: p99 of 1 / p99 of 3 < 3', v1 && v3 && v1.p99 / v3.p99, (v) => v < 3);
  const maxConnections = Math.max(0, ...aggregates.map((a) => a.connections));
  const biggest = aggregates.filter((a) => a.connections === maxConnections && (a.variant === 1 || a.variant === 2));
  const rss = biggest.flatMap((a) => a.services.map((s) => s.rssMiB ?? 0));
  check(
    `RSS of every project service after the c=${maxConnections} run < 300 MB (MiB shown)`,
    rss.length === 0 ? undefined : Math.max(...rss),
    (v) => v * 1.048576 < 300,
    0,
  );
  for (const n of [50, 200]) {
    const row = users.find((u) => u.variant === 1 && u.users === n);
    check(`users N=${n}: rolls/s >= 0.95 x N / 0.5 s`, row && row.achieved / row.bound, (v) => v >= 0.95, 3);
  }
  return result;
}

export function floorTable(list: Floor[]): string {
  return markdownTable(
    ['floor', 'measured', 'met'],
    list.map((floor) => [floor.name, floor.value, floor.met === undefined ? 'not measured' : floor.met ? 'yes' : 'NO']),
    [false, true, false],
  );
}
