import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FaultName } from '../../fault-lab/src/faults';
import { allFaultsOff, faultFlag, writeFlagDocument } from '../../fault-lab/src/flag-file';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { eventually } from '../support/prometheus';
import { type Chain, type ServiceProcess, startChain, startService } from '../support/service-process';
import { runTrafficGen } from '../traffic-gen/traffic-gen-process';

/**
 * The fault lab on the three real services: each scenario switched on by editing
 * a temporary copy of the flag file (polled every 100 ms), what it changes (status
 * codes, latency, event-loop lag, roll values, the spans' events), and switched
 * off again, never restarting a process.
 */

const directory = mkdtempSync(path.join(tmpdir(), 'fault-lab-e2e-'));
const flagFile = path.join(directory, 'faults.flagd.json');
const receiver = new OtlpReceiver();
let chain: Chain;
let receiverEndpoint: string;

/** dice-roller gives up on die-service after this; the hang fault holds its answers longer. */
const DIE_SERVICE_TIMEOUT_MS = 1500;

function setFaults(on: Partial<Record<FaultName, number | string>> = {}): void {
  const document = allFaultsOff();
  for (const [fault, value] of Object.entries(on)) document.flags[fault] = faultFlag(fault as FaultName, value);
  writeFlagDocument(flagFile, document);
}

beforeAll(async () => {
  setFaults();
  receiverEndpoint = await receiver.start();
  chain = await startChain(
    {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverEndpoint,
      ROLL_DELAY_MAX_MS: '0',
      FAULT_FLAGS_FILE: flagFile,
      FAULT_FLAGS_POLL_MS: '100',
    },
    { 'dice-roller': { DIE_SERVICE_TIMEOUT_MS: String(DIE_SERVICE_TIMEOUT_MS) } },
  );
  // Each service starts its fault lab once it listens.
  for (const service of chain.all) await service.waitForLog((line) => line.message === 'Fault flags loaded');
  // dice-roller labels a die's calls by its name once die-service has vouched for it.
  expect((await roll('fair')).status).toBe(200);
});

/** Every fault off, and seen off by the services that implement them: the next test starts clean. */
afterEach(async () => {
  setFaults();
  await eventually('every fault off again', async () => {
    const reports = await Promise.all([metrics(chain.dieService), metrics(chain.diceRoller)]);
    return reports.every((text) => !/^fault_active\{.*\} 1$/m.test(text)) ? true : undefined;
  });
});

afterAll(async () => {
  await chain?.stop();
  await receiver.stop();
  rmSync(directory, { recursive: true, force: true });
});

interface Roll {
  status: number;
  body: Record<string, unknown>;
  ms: number;
}

async function roll(die = 'fair'): Promise<Roll> {
  const start = performance.now();
  const response = await fetch(`${chain.frontend.url}/roll?die=${die}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - start };
}

/** Rolls until one answers as `expected` says: the fault has been picked up (or dropped). */
function rollUntil(what: string, expected: (roll: Roll) => boolean, die = 'fair'): Promise<Roll> {
  return eventually(
    what,
    async () => {
      const answer = await roll(die);
      return expected(answer) ? answer : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
}

/** The five spans of one roll through the chain, once they have all arrived. */
async function spansOf(answer: Roll): Promise<ReceivedSpan[]> {
  expect(answer.body.trace_id).toMatch(/^[0-9a-f]{32}$/);
  return receiver.waitForTrace(String(answer.body.trace_id), 5);
}

function serverSpan(spans: ReceivedSpan[], service: string): ReceivedSpan {
  const span = spans.find((s) => s.service === service && s.kind === 'server');
  if (span === undefined) throw new Error(`no server span of ${service}`);
  return span;
}

const durationMs = (span: ReceivedSpan) => Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;

function flagEvents(span: ReceivedSpan) {
  return span.events.filter((event) => event.name === 'feature_flag.evaluation');
}

/** The semantic conventions' feature_flag.evaluation event, as flagd evaluates a fault switched on. */
function evaluationEvent(fault: FaultName, value: number, reason = 'static') {
  return {
    name: 'feature_flag.evaluation',
    attributes: expect.objectContaining({
      'feature_flag.key': fault,
      'feature_flag.provider.name': 'flagd',
      'feature_flag.result.variant': 'on',
      'feature_flag.result.value': value,
      'feature_flag.result.reason': reason,
      'feature_flag.set.id': 'fault-lab',
    }),
  };
}

async function metrics(service: ServiceProcess): Promise<string> {
  return (await fetch(`${service.url}/metrics`)).text();
}

/** One sample of the classic text format, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the fault lab, with every fault off', () => {
  it('changes nothing: rolls succeed, no span carries a flag event, fault_active is 0', async () => {
    const answer = await roll();
    expect(answer.status).toBe(200);
    for (const span of await spansOf(answer)) expect(flagEvents(span), span.name).toEqual([]);
    const dieMetrics = await metrics(chain.dieService);
    for (const fault of ['die-service-slow', 'die-service-failing', 'die-service-hang', 'die-service-bad-deploy']) {
      expect(sample(dieMetrics, `fault_active{fault="${fault}"}`), fault).toBe(0);
    }
    const rollerMetrics = await metrics(chain.diceRoller);
    expect(sample(rollerMetrics, 'fault_active{fault="dice-roller-event-loop-block"}')).toBe(0);
    expect(sample(rollerMetrics, 'fault_active{fault="dice-roller-loaded-die"}')).toBe(0);
  });

  it('lists no active fault on the page, and no HTTP method switches one', async () => {
    const response = await fetch(`${chain.frontend.url}/faults`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ active: [] });
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect((await fetch(`${chain.frontend.url}/faults`, { method })).status, method).toBe(405);
    }
  });
});

describe('die-service-slow', () => {
  it('adds its latency to every specification, with no errors, and the span says why', async () => {
    setFaults({ 'die-service-slow': 400 });
    const slow = await rollUntil('rolls slowed down', (r) => r.ms >= 400);
    expect(slow.status).toBe(200);
    const spans = await spansOf(slow);
    const dieServer = serverSpan(spans, 'die-service');
    expect(durationMs(dieServer)).toBeGreaterThanOrEqual(400);
    expect(dieServer.status.code).not.toBe('error');
    expect(flagEvents(dieServer)).toEqual([evaluationEvent('die-service-slow', 400)]);
    expect(sample(await metrics(chain.dieService), 'fault_active{fault="die-service-slow"}')).toBe(1);
    const page = (await (await fetch(`${chain.frontend.url}/faults`)).json()) as { active: unknown[] };
    expect(page.active).toEqual([
      expect.objectContaining({ fault: 'die-service-slow', service: 'die-service', value: 400 }),
    ]);

    setFaults();
    const fast = await rollUntil('rolls fast again', (r) => r.ms < 400);
    expect(flagEvents(serverSpan(await spansOf(fast), 'die-service'))).toEqual([]);
    expect(sample(await metrics(chain.dieService), 'fault_active{fault="die-service-slow"}')).toBe(0);
  });
});

describe('die-service-failing', () => {
  it("turns die-service's answers into 500s, which dice-roller reports as 502", async () => {
    setFaults({ 'die-service-failing': 1 });
    const failed = await rollUntil('rolls fail', (r) => r.status !== 200);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ type: 'urn:dice-roller:problem:upstream-error' });
    const dieServer = serverSpan(await spansOf(failed), 'die-service');
    expect(dieServer.status.code).toBe('error');
    expect(flagEvents(dieServer)).toEqual([evaluationEvent('die-service-failing', 1)]);
    expect(dieServer.events).toContainEqual({
      name: 'exception',
      attributes: expect.objectContaining({ 'exception.message': expect.stringContaining('die-service-failing') }),
    });
    expect(
      sample(await metrics(chain.diceRoller), 'die_service_requests_total{identifier="fair",status="error_500"}'),
    ).toBeGreaterThan(0);

    // traffic-gen's summary tells it too: every roll failed with 502, and a failed trace to open.
    const run = await runTrafficGen(
      [
        '--url',
        chain.frontend.url,
        '--rate',
        '20',
        '--duration',
        '1s',
        '--dice',
        'fair',
        '--batch-share',
        '0',
        '--json',
      ],
      receiverEndpoint,
    );
    const summary = run.summary();
    expect(summary.successes).toBe(0);
    expect(summary.failures_by_status).toEqual({ '502': summary.requests });
    expect(summary.failed?.trace_id).toMatch(/^[0-9a-f]{32}$/);

    setFaults();
    await rollUntil('rolls succeed again', (r) => r.status === 200);
  });
});

describe('die-service-hang', () => {
  it("holds die-service's answers past dice-roller's timeout: 504s, the client span timed out", async () => {
    setFaults({ 'die-service-hang': DIE_SERVICE_TIMEOUT_MS * 2 });
    const timedOut = await rollUntil('rolls time out', (r) => r.status !== 200);
    expect(timedOut.status).toBe(504);
    expect(timedOut.body).toMatchObject({ type: 'urn:dice-roller:problem:upstream-timeout' });
    const spans = await spansOf(timedOut);
    const rollerClient = spans.find((s) => s.service === 'dice-roller' && s.kind === 'client');
    expect(rollerClient?.status.code).toBe('error');
    expect(durationMs(rollerClient as ReceivedSpan)).toBeGreaterThanOrEqual(DIE_SERVICE_TIMEOUT_MS * 0.9);
    // die-service's own span lasts until dice-roller hangs up, and names the cause.
    const dieServer = serverSpan(spans, 'die-service');
    expect(durationMs(dieServer)).toBeGreaterThanOrEqual(DIE_SERVICE_TIMEOUT_MS * 0.9);
    expect(flagEvents(dieServer)).toEqual([evaluationEvent('die-service-hang', DIE_SERVICE_TIMEOUT_MS * 2)]);
    expect(
      sample(await metrics(chain.diceRoller), 'die_service_requests_total{identifier="fair",status="timeout"}'),
    ).toBeGreaterThan(0);

    setFaults();
    await rollUntil('rolls succeed again', (r) => r.status === 200);
  });
});

describe('die-service-bad-deploy', () => {
  it("answers specifications that break the contract, and dice-roller's client refuses them: 502", async () => {
    setFaults({ 'die-service-bad-deploy': 1 });
    const failed = await rollUntil('rolls fail', (r) => r.status !== 200);
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ type: 'urn:dice-roller:problem:upstream-error' });
    const direct = await fetch(`${chain.dieService.url}/dice?identifier=fair`);
    expect(direct.status).toBe(200);
    expect(await direct.json()).toEqual({
      identifier: 'fair',
      specification: { sides: [1, 2, 3, 4, 5, 6], error_rate: 0 },
    });
    const spans = await spansOf(failed);
    const dieServer = serverSpan(spans, 'die-service');
    expect(dieServer.status.code).not.toBe('error');
    expect(flagEvents(dieServer)).toEqual([evaluationEvent('die-service-bad-deploy', 1)]);
    // The failure is dice-roller's to report: it refused what die-service sent.
    expect(serverSpan(spans, 'dice-roller')).toMatchObject({
      status: { code: 'error', message: 'die-service gave an unexpected answer' },
      attributes: expect.objectContaining({ 'error.type': 'urn:dice-roller:problem:upstream-error' }),
    });
    expect(
      sample(await metrics(chain.diceRoller), 'die_service_requests_total{identifier="fair",status="error_200"}'),
    ).toBeGreaterThan(0);

    setFaults();
    await rollUntil('rolls succeed again', (r) => r.status === 200);
  });
});

describe('dice-roller-event-loop-block', () => {
  const BURN_MS = 300;

  it("blocks dice-roller's event loop in every roll: loop lag, other requests' latency, the spans", async () => {
    setFaults({ 'dice-roller-event-loop-block': BURN_MS });
    const blocked = await rollUntil('rolls blocked', (r) => r.ms >= BURN_MS);
    expect(blocked.status).toBe(200);
    const rollerServer = serverSpan(await spansOf(blocked), 'dice-roller');
    expect(durationMs(rollerServer)).toBeGreaterThanOrEqual(BURN_MS);
    expect(flagEvents(rollerServer)).toEqual([evaluationEvent('dice-roller-event-loop-block', BURN_MS)]);

    // Other requests to dice-roller, sent one after another while a roll burns: the
    // one in flight when the burn starts waits for it to end.
    await metrics(chain.diceRoller); // prom-client resets its event-loop delay histogram on each scrape
    let rolled = false;
    const rolling = roll().finally(() => {
      rolled = true;
    });
    let slowestHealthMs = 0;
    while (!rolled) {
      const start = performance.now();
      expect((await fetch(`${chain.diceRoller.url}/health`)).status).toBe(200);
      slowestHealthMs = Math.max(slowestHealthMs, performance.now() - start);
    }
    await rolling;
    expect(slowestHealthMs).toBeGreaterThanOrEqual(BURN_MS / 2);
    const lagMax = sample(await metrics(chain.diceRoller), 'nodejs_eventloop_lag_max_seconds');
    expect(lagMax).toBeGreaterThanOrEqual((BURN_MS * 0.9) / 1000);

    setFaults();
    const unblocked = await rollUntil('rolls unblocked', (r) => r.ms < BURN_MS);
    expect(flagEvents(serverSpan(await spansOf(unblocked), 'dice-roller'))).toEqual([]);
  });
});

describe('dice-roller-loaded-die', () => {
  it('loads one die: its highest face far too often, no errors, only roll values and spans tell', async () => {
    const before = await metrics(chain.diceRoller);
    setFaults({ 'dice-roller-loaded-die': 'fair' });
    const first = await eventually(
      'the fair die loaded',
      async () => {
        const answer = await roll('fair');
        const spans = await spansOf(answer);
        return flagEvents(serverSpan(spans, 'dice-roller')).length > 0 ? spans : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
    expect(flagEvents(serverSpan(first, 'dice-roller'))).toEqual([
      evaluationEvent('dice-roller-loaded-die', 0.5, 'targeting_match'),
    ]);

    const rolls: Roll[] = [];
    for (let i = 0; i < 6; i++) rolls.push(...(await Promise.all(Array.from({ length: 10 }, () => roll('fair')))));
    expect(rolls.map((r) => r.status)).toEqual(rolls.map(() => 200));
    // A fair die shows a 6 one time in six (10 of 60, rarely above 18); loaded, about 35.
    const sixes = rolls.filter((r) => r.body.roll === 6).length;
    expect(sixes).toBeGreaterThanOrEqual(22);
    const last = serverSpan(await spansOf(rolls.at(-1) as Roll), 'dice-roller');
    expect(last.attributes['die.result']).toBe(rolls.at(-1)?.body.roll);
    expect(last.status.code).not.toBe('error');

    // The histogram shows it: the share of fair rolls above 5.
    const after = await metrics(chain.diceRoller);
    const delta = (series: string) => (sample(after, series) ?? 0) - (sample(before, series) ?? 0);
    const count = delta('dice_roll_value_count{die_type="fair"}');
    const aboveFive = count - delta('dice_roll_value_bucket{le="5",die_type="fair"}');
    expect(aboveFive / count).toBeGreaterThan(0.35);

    // In a batch, each die of the batch is loaded, and each `roll` span says so.
    const batch = await fetch(`${chain.frontend.url}/roll-async?die=fair&times=10`);
    const batchBody = (await batch.json()) as { rolls: number[]; trace_id: string };
    expect(batch.status).toBe(200);
    const rollSpans = (await receiver.waitForTrace(batchBody.trace_id, 15)).filter((span) => span.name === 'roll');
    expect(rollSpans).toHaveLength(10);
    for (const span of rollSpans) {
      expect(flagEvents(span)).toEqual([evaluationEvent('dice-roller-loaded-die', 0.5, 'targeting_match')]);
    }

    // Another die is not loaded, and its rolls carry no flag event.
    const other = serverSpan(await spansOf(await roll('risky')), 'dice-roller');
    expect(flagEvents(other)).toEqual([]);

    setFaults();
    await eventually('the fair die fair again', async () =>
      sample(await metrics(chain.diceRoller), 'fault_active{fault="dice-roller-loaded-die"}') === 0 ? true : undefined,
    );
    expect(flagEvents(serverSpan(await spansOf(await roll('fair')), 'dice-roller'))).toEqual([]);
  });
});

describe('a malformed flag file', () => {
  it('changes nothing: every service keeps its last good flags and logs one error', async () => {
    setFaults({ 'die-service-slow': 300 });
    await rollUntil('rolls slowed down', (r) => r.ms >= 300);
    const errorsBefore = chain.all.map((service) => service.logs.filter((line) => line.level === 'ERROR').length);

    writeFileSync(flagFile, '{ "flags": { "die-service-slow": { "state": "ENABL');
    const malformed = (service: ServiceProcess) =>
      service.logs.filter((line) => line.message === 'Fault flags file is malformed; keeping the last good flags');
    for (const service of chain.all) await service.waitForLog((line) => malformed(service).includes(line));
    // Polls later, the same flags: still slow, still one error line per service.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await roll()).ms).toBeGreaterThanOrEqual(300);
    chain.all.forEach((service, i) => {
      expect(malformed(service), service.name).toHaveLength(1);
      expect(service.logs.filter((line) => line.level === 'ERROR').length, service.name).toBe(
        (errorsBefore[i] ?? 0) + 1,
      );
      expect(malformed(service)[0]).toMatchObject({ file: flagFile, error: expect.stringContaining('JSON') });
    });

    setFaults();
    await rollUntil('rolls fast again', (r) => r.ms < 300);
  });
});

describe('a flag file missing at start', () => {
  it('leaves every fault off with one error, and is followed once it appears, without a restart', async () => {
    const late = path.join(directory, 'late.flagd.json');
    const dieService = await startService('die-service', {
      env: { FAULT_FLAGS_FILE: late, FAULT_FLAGS_POLL_MS: '100' },
    });
    try {
      const error = await dieService.waitForLog((line) => line.level === 'ERROR');
      expect(error).toMatchObject({
        message: 'Fault flags file cannot be read; every fault stays off until it is fixed',
        file: late,
        error: 'ENOENT',
      });
      expect((await fetch(`${dieService.url}/dice?identifier=fair`)).status).toBe(200);

      const document = allFaultsOff();
      document.flags['die-service-failing'] = faultFlag('die-service-failing', 1);
      writeFlagDocument(late, document);
      await eventually('the fault followed', async () =>
        (await fetch(`${dieService.url}/dice?identifier=fair`)).status === 500 ? true : undefined,
      );
    } finally {
      await dieService.stop();
    }
  });
});
