import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultName } from '../../fault-lab/src/faults';
import { allFaultsOff, faultFlag, writeFlagDocument } from '../../fault-lab/src/flag-file';
import { allSelection, interpolate, loadDashboards, panelsOf, syntaxErrors } from '../support/dashboards';
import { eventually, type PrometheusServer } from '../support/prometheus';
import { type Chain, startChain } from '../support/service-process';
import { startStackPrometheus } from '../support/stack-prometheus';

/**
 * The dashboard's fault windows against the real Prometheus: the three services
 * scraped with the stack's jobs, two faults switched on and off in turn through a
 * temporary flag file, then the dashboard's own annotation query, as Grafana runs
 * it (a range query), must return each fault over its window and nowhere else;
 * and under the event-loop fault's band, the panel its runbook entry names moves.
 */

/** The event-loop fault's burn per roll, long enough to stand out of any machine's noise. */
const BURN_MS = 200;
const directory = mkdtempSync(path.join(tmpdir(), 'fault-annotations-'));
const flagFile = path.join(directory, 'faults.flagd.json');
let chain: Chain;
let prometheus: PrometheusServer;

function setFaults(on: Partial<Record<FaultName, number | string>> = {}): void {
  const document = allFaultsOff();
  for (const [fault, value] of Object.entries(on)) document.flags[fault] = faultFlag(fault as FaultName, value);
  writeFlagDocument(flagFile, document);
}

const dashboard = loadDashboards().find((d) => d.file === 'dice-roller.json')?.dashboard;
const annotation = dashboard?.annotations.list?.find((a) => a.name === 'Faults switched on');

/** `fault_active{fault}` as Prometheus last scraped it from `job`. */
async function scraped(job: string, fault: FaultName): Promise<number | undefined> {
  const [sample] = await prometheus.query(`fault_active{job="${job}", fault="${fault}"}`);
  return sample === undefined ? undefined : Number(sample.value[1]);
}

/** Rolls through the frontend, one after another, for `ms`. */
async function rollFor(ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) await (await fetch(`${chain.frontend.url}/roll?die=fair`)).arrayBuffer();
}

/** Switches `fault` on, rolls while Prometheus scrapes it on for a few seconds, then switches it off. */
async function window(job: string, fault: FaultName, value: number): Promise<{ on: number; off: number }> {
  const on = Date.now() / 1000;
  setFaults({ [fault]: value });
  await eventually(`${fault} scraped on`, async () => ((await scraped(job, fault)) === 1 ? true : undefined));
  await rollFor(3_000);
  setFaults();
  await eventually(`${fault} scraped off`, async () => ((await scraped(job, fault)) === 0 ? true : undefined));
  return { on, off: Date.now() / 1000 };
}

beforeAll(async () => {
  setFaults();
  chain = await startChain({ ROLL_DELAY_MAX_MS: '0', FAULT_FLAGS_FILE: flagFile, FAULT_FLAGS_POLL_MS: '100' });
  ({ prometheus } = await startStackPrometheus(chain, '1s'));
  // One roll, so that each service has served a request: the $service variable's values.
  expect((await fetch(`${chain.frontend.url}/roll?die=fair`)).status).toBe(200);
  await eventually('every service scraped, fault_active from die-service and dice-roller', async () => {
    const served = new Set((await prometheus.query('http_requests_total')).map((s) => s.metric.job));
    const reporting = new Set((await prometheus.query('fault_active')).map((s) => s.metric.job));
    const all = ['die-service', 'dice-roller', 'frontend'].every((job) => served.has(job));
    return all && reporting.has('die-service') && reporting.has('dice-roller') ? true : undefined;
  });
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await chain?.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe("the dashboard's fault windows", () => {
  it('are an annotation on the provisioned Prometheus, a valid PromQL query', () => {
    expect(annotation).toMatchObject({ datasource: { type: 'prometheus', uid: 'prometheus' }, enable: true });
    expect(syntaxErrors('promql', String(annotation?.expr).replace('$service', 'x'))).toEqual([]);
  });

  it('return each fault over the time it was switched on, and nothing while every fault is off', async () => {
    const slow = await window('die-service', 'die-service-slow', 200);
    const blocked = await window('dice-roller', 'dice-roller-event-loop-block', BURN_MS);

    // As Grafana runs it with "All" services selected.
    const services = [...new Set((await prometheus.query('http_requests_total')).map((s) => s.metric.job as string))];
    const expr = interpolate(String(annotation?.expr), {
      service: allSelection({ name: 'service' } as Parameters<typeof allSelection>[0], services.sort()),
    });
    const result = await prometheus.api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(
      'query_range',
      { query: expr, start: String(slow.on - 10), end: String(Date.now() / 1000), step: '1' },
    );
    const windows = new Map(result.result.map((series) => [series.metric.fault, series.values.map(([t]) => t)]));
    expect([...windows.keys()].sort()).toEqual(['dice-roller-event-loop-block', 'die-service-slow']);
    for (const [fault, { on, off }] of [
      ['die-service-slow', slow],
      ['dice-roller-event-loop-block', blocked],
    ] as const) {
      const times = windows.get(fault) ?? [];
      // At least the three seconds it stayed on, none before it was switched on or after it was seen off.
      expect(times.length, fault).toBeGreaterThanOrEqual(3);
      expect(Math.min(...times), fault).toBeGreaterThanOrEqual(Math.floor(on));
      expect(Math.max(...times), fault).toBeLessThanOrEqual(Math.ceil(off));
    }
    // The query names the fault in its only label, which the annotation's title and tag use.
    for (const series of result.result) expect(Object.keys(series.metric)).toEqual(['fault']);

    // Under the band, the runbook's panel moves: Runtime -> Event-loop lag p99, as the dashboard queries it.
    const lagPanel = panelsOf(dashboard as NonNullable<typeof dashboard>).find((p) => p.title === 'Event-loop lag p99');
    const lagExpr = interpolate(String(lagPanel?.targets?.[0]?.expr), { service: 'dice-roller' });
    const lag = await prometheus.api<{ result: { metric: Record<string, string>; values: [number, string][] }[] }>(
      'query_range',
      { query: lagExpr, start: String(blocked.on), end: String(blocked.off), step: '1' },
    );
    const worst = Math.max(...(lag.result[0]?.values ?? []).map(([, v]) => Number(v)));
    expect(worst).toBeGreaterThanOrEqual((BURN_MS * 0.9) / 1000);
  });
});
