import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServerTiming } from '../../telemetry/src/service-kit/server-timing-header';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { type Chain, REPO_ROOT, type ServiceProcess, startChain } from '../support/service-process';

/**
 * Concurrent rolls (`GET /roll-async`) through the three services as real
 * processes, with an OTLP receiver in place of the collector: the trace of a
 * batch (one server span in dice-roller, a `roll` child per roll, overlapping in
 * time), its logs, its metrics, and the experiment script people run.
 */

const SPECIFICATIONS = {
  fair: { faces: [1, 2, 3, 4, 5, 6], error_rate: 0 },
  coin: { faces: [1, 2], error_rate: 0.5 },
  always_fails: { faces: [1], error_rate: 1 },
};
/** Long enough that ten rolls visibly overlap, short enough for a quick test. */
const ROLL_DELAY_MAX_MS = 200;
/** frontend (server + client), dice-roller (server + client), die-service (server). */
const SPANS_PER_REQUEST = 5;

const receiver = new OtlpReceiver();
let specDir: string;
let chain: Chain;

beforeAll(async () => {
  specDir = mkdtempSync(path.join(tmpdir(), 'concurrent-rolls-'));
  const specFile = path.join(specDir, 'dice.json');
  writeFileSync(specFile, JSON.stringify(SPECIFICATIONS));
  chain = await startChain(
    { OTEL_EXPORTER_OTLP_ENDPOINT: await receiver.start(), ROLL_DELAY_MAX_MS: String(ROLL_DELAY_MAX_MS) },
    { 'die-service': { DIE_SPECS_FILE: specFile } },
  );
});

afterAll(async () => {
  await chain?.stop();
  await receiver.stop();
  if (specDir !== undefined) rmSync(specDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: Record<string, unknown>;
  serverTiming: string | null;
}

async function rollBatch(query: string, base = chain.frontend.url): Promise<Answer> {
  const response = await fetch(`${base}/roll-async?${query}`);
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    serverTiming: response.headers.get('server-timing'),
  };
}

/** Rolls a batch until it comes back with `status` (dice fail at random). */
async function rollUntil(status: number, query: string): Promise<Answer> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const answer = await rollBatch(query);
    if (answer.status === status) return answer;
  }
  throw new Error(`no batch answered ${status} in 30 attempts: ${query}`);
}

function only(spans: ReceivedSpan[], service: string, kind: ReceivedSpan['kind']): ReceivedSpan {
  const matching = spans.filter((span) => span.service === service && span.kind === kind);
  expect(matching, `${kind} spans of ${service}`).toHaveLength(1);
  return matching[0] as ReceivedSpan;
}

const rollSpansOf = (spans: ReceivedSpan[]) =>
  spans
    .filter((span) => span.name === 'roll')
    .sort((a, b) => Number(a.attributes['async.roll_index']) - Number(b.attributes['async.roll_index']));

const durationMs = (span: ReceivedSpan) => Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;

async function metricsText(service: ServiceProcess): Promise<string> {
  return (await fetch(`${service.url}/metrics`)).text();
}

/** The value of one series in a classic exposition (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** Every distinct value of `label` on the series of `metric`. */
function labelValues(text: string, metric: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const match of text.matchAll(new RegExp(`^${metric}\\{[^}]*\\b${label}="([^"]*)"`, 'gm'))) {
    values.add(match[1] as string);
  }
  return values;
}

describe('a batch of ten', () => {
  let answer: Answer;
  let spans: ReceivedSpan[];

  beforeAll(async () => {
    answer = await rollBatch('die=fair&times=10');
    spans = await receiver.waitForTrace(String(answer.body.trace_id), SPANS_PER_REQUEST + 10);
  });

  it('answers every roll, their total and their count, with the trace id', () => {
    expect(answer.status).toBe(200);
    const rolls = answer.body.rolls as number[];
    expect(rolls).toHaveLength(10);
    for (const value of rolls) expect(SPECIFICATIONS.fair.faces).toContain(value);
    expect(answer.body).toEqual({
      total: rolls.reduce((sum, value) => sum + value, 0),
      rolls,
      count: 10,
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });

  it("is one trace: ten `roll` spans, children of dice-roller's server span, after one specification fetch", () => {
    const rollerServer = only(spans, 'dice-roller', 'server');
    const rollSpans = rollSpansOf(spans);
    expect(rollSpans).toHaveLength(10);
    expect(spans).toHaveLength(SPANS_PER_REQUEST + 10);
    for (const [index, span] of rollSpans.entries()) {
      expect(span).toMatchObject({ service: 'dice-roller', kind: 'internal', parentSpanId: rollerServer.spanId });
      expect(span.status.code).toBe('unset');
      expect(span.attributes).toMatchObject({
        'async.roll_index': index,
        'die.result': (answer.body.rolls as number[])[index],
        'die.error': false,
      });
    }
    // One specification fetch for the whole batch.
    expect(only(spans, 'die-service', 'server').parentSpanId).toBe(only(spans, 'dice-roller', 'client').spanId);
    expect(rollerServer.name).toBe('GET /roll-async');
    expect(rollerServer.attributes).toMatchObject({
      'die.type': 'fair',
      'die.faces': SPECIFICATIONS.fair.faces,
      'die.error_rate': 0,
      'async.batch_size': 10,
      'async.total_result': answer.body.total,
    });
    expect(rollerServer.parentSpanId).toBe(only(spans, 'frontend', 'client').spanId);
    expect(only(spans, 'frontend', 'server').attributes).toMatchObject({ 'die.type': 'fair', 'async.batch_size': 10 });
  });

  it('runs its rolls side by side: the batch takes far less than the sum of its rolls, and they overlap', () => {
    const rollerServer = only(spans, 'dice-roller', 'server');
    const rollSpans = rollSpansOf(spans);
    const sumOfRolls = rollSpans.reduce((sum, span) => sum + durationMs(span), 0);
    expect(durationMs(rollerServer)).toBeLessThan(sumOfRolls / 2);
    // At least two rolls were running at the same instant.
    const overlapping = rollSpans.some((a, i) =>
      rollSpans.some(
        (b, j) => i !== j && a.startTimeUnixNano < b.endTimeUnixNano && b.startTimeUnixNano < a.endTimeUnixNano,
      ),
    );
    expect(overlapping).toBe(true);
    // Every roll ran inside the server span.
    for (const span of rollSpans) {
      expect(span.startTimeUnixNano).toBeGreaterThanOrEqual(rollerServer.startTimeUnixNano);
      expect(span.endTimeUnixNano).toBeLessThanOrEqual(rollerServer.endTimeUnixNano);
    }
  });

  it("logs the batch in dice-roller with its trace id, each roll's line in that roll's own span", async () => {
    const traceId = String(answer.body.trace_id);
    await chain.diceRoller.waitForLog(
      (line) => line.trace_id === traceId && line.message === 'Async roll batch completed',
    );
    const lines = chain.diceRoller.logs.filter((line) => line.trace_id === traceId);
    expect(lines.find((line) => line.message === 'Async roll batch started')).toMatchObject({
      level: 'INFO',
      die_type: 'fair',
      times: 10,
    });
    expect(lines.find((line) => line.message === 'Async roll batch completed')).toMatchObject({
      level: 'INFO',
      total: answer.body.total,
      rolls: answer.body.rolls,
      duration_ms: expect.any(Number),
    });
    const rollLines = lines.filter((line) => line.message === 'Async roll completed');
    expect(rollLines.map((line) => line.roll_index).sort((a, b) => Number(a) - Number(b))).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    // Context followed each roll: its line carries its own span's id and value, never a sibling's.
    const rollSpans = rollSpansOf(spans);
    for (const line of rollLines) {
      const span = rollSpans[Number(line.roll_index)] as ReceivedSpan;
      expect(line).toMatchObject({ span_id: span.spanId, roll_value: span.attributes['die.result'] });
    }
    const frontendLines = chain.frontend.logs.filter((line) => line.trace_id === traceId);
    expect(frontendLines.map((line) => line.message)).toEqual(
      expect.arrayContaining(['Roll batch requested', 'Roll batch succeeded']),
    );
  });

  it("carries each roll's time and start in Server-Timing, relayed by the frontend", () => {
    const entries = parseServerTiming(answer.serverTiming ?? undefined);
    const names = entries.map((entry) => entry.name);
    expect(names).toEqual(expect.arrayContaining(['frontend', 'dice-roller', 'dice-roller.wait', 'die-service']));
    const rollEntries = entries.filter((entry) => /^dice-roller\.roll\.\d+$/.test(entry.name));
    expect(rollEntries.map((entry) => entry.name)).toEqual(
      Array.from({ length: 10 }, (_, index) => `dice-roller.roll.${index}`),
    );
    const rollSpans = rollSpansOf(spans);
    for (const [index, entry] of rollEntries.entries()) {
      expect(entry.description).toMatch(new RegExp(`^roll ${index} started \\d+(\\.\\d+)? ms into dice-roller$`));
      // The time the roll's span measured, give or take the statements (a log line, a
      // metric) between the span's start and end and the roll's own clock readings.
      const spanMs = durationMs(rollSpans[index] as ReceivedSpan);
      expect(Math.abs((entry.duration as number) - spanMs)).toBeLessThan(Math.max(15, spanMs / 10));
    }
  });
});

describe('a batch in which dice fail', () => {
  it('answers 500 die-failed naming the die, how many failed and which, and marks exactly those spans ERROR', async () => {
    const answer = await rollUntil(500, 'die=coin&times=10');
    const failed = answer.body.failed_rolls as number[];
    expect(failed.length).toBeGreaterThan(0);
    expect([...failed].sort((a, b) => a - b)).toEqual(failed);
    expect(answer.body).toMatchObject({
      type: 'urn:dice-roller:problem:die-failed',
      status: 500,
      detail: `${failed.length} of 10 rolls of die 'coin' failed`,
      die: 'coin',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });

    const spans = await receiver.waitForTrace(String(answer.body.trace_id), SPANS_PER_REQUEST + 10);
    const rollSpans = rollSpansOf(spans);
    expect(rollSpans).toHaveLength(10);
    const inError = rollSpans.filter((span) => span.status.code === 'error');
    expect(inError.map((span) => span.attributes['async.roll_index'])).toEqual(failed);
    for (const span of inError) {
      expect(span.attributes['die.error']).toBe(true);
      expect(span.status.message).toBe(`Roll ${span.attributes['async.roll_index']} of die 'coin' failed`);
    }
    for (const span of rollSpans.filter((s) => s.status.code !== 'error')) {
      expect(span.attributes).toMatchObject({ 'die.error': false, 'die.result': expect.any(Number) });
    }
    const rollerServer = only(spans, 'dice-roller', 'server');
    expect(rollerServer.status).toEqual({ code: 'error', message: answer.body.detail });
    expect(rollerServer.attributes).toMatchObject({ 'die.type': 'coin', 'async.batch_size': 10 });
    expect(rollerServer.attributes['async.total_result']).toBeUndefined();
    expect(only(spans, 'frontend', 'server').status.code).toBe('error');
    // Server-Timing marks the same rolls as failed, for the page's journey view.
    const timedAsFailed = parseServerTiming(answer.serverTiming ?? undefined)
      .filter((entry) => /^dice-roller\.roll\.\d+$/.test(entry.name) && entry.description?.includes('(failed)'))
      .map((entry) => Number(entry.name.split('.').at(-1)));
    expect(timedAsFailed).toEqual(failed);

    const traceId = String(answer.body.trace_id);
    const failure = await chain.diceRoller.waitForLog(
      (line) => line.trace_id === traceId && line.message === 'Async roll batch failed',
    );
    expect(failure).toMatchObject({ level: 'ERROR', die_type: 'coin', failed_rolls: failed });
    const errorLines = chain.diceRoller.logs.filter(
      (line) => line.trace_id === traceId && line.message === 'Async roll triggered error condition',
    );
    expect(errorLines.map((line) => line.roll_index).sort((a, b) => Number(a) - Number(b))).toEqual(failed);
  });

  it('names every roll of a die that always fails', async () => {
    const answer = await rollBatch('die=always_fails&times=3');
    expect(answer.status).toBe(500);
    expect(answer.body).toMatchObject({ detail: "3 of 3 rolls of die 'always_fails' failed", failed_rolls: [0, 1, 2] });
  });
});

describe('requests that are not batches', () => {
  it.each([
    ['missing', 'die=fair'],
    ['empty', 'die=fair&times='],
    ['repeated', 'die=fair&times=2&times=3'],
    ['not an integer', 'die=fair&times=two'],
    ['0', 'die=fair&times=0'],
    ['21', 'die=fair&times=21'],
    ['an exponent', 'die=fair&times=1e1'],
    ['a leading space', 'die=fair&times=%205'],
  ])('%s times: 400 naming times, from the frontend and from dice-roller', async (_name, query) => {
    for (const service of [chain.frontend, chain.diceRoller]) {
      const answer = await rollBatch(query, service.url);
      expect(answer.status, `${service.name} ${query}`).toBe(400);
      expect(answer.body).toMatchObject({ type: 'urn:dice-roller:problem:invalid-parameter', parameter: 'times' });
    }
  });

  it('an unknown die: 404 with the dice there are, as for /roll', async () => {
    const answer = await rollBatch('die=loaded&times=3');
    expect(answer.status).toBe(404);
    expect(answer.body).toMatchObject({
      type: 'urn:dice-roller:problem:unknown-die',
      available: Object.keys(SPECIFICATIONS),
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
  });
});

describe('metrics', () => {
  it('count each roll, each batch, its size and its time, and the batches in progress', async () => {
    const [rollerBefore, frontendBefore] = await Promise.all([
      metricsText(chain.diceRoller),
      metricsText(chain.frontend),
    ]);
    const batch = rollBatch('die=fair&times=7');
    // While the batch runs, the gauge shows it.
    await expect
      .poll(async () => sample(await metricsText(chain.diceRoller), 'async_rolls_in_progress'), { interval: 5 })
      .toBeGreaterThanOrEqual(1);
    expect((await batch).status).toBe(200);
    const [rollerAfter, frontendAfter] = await Promise.all([
      metricsText(chain.diceRoller),
      metricsText(chain.frontend),
    ]);

    const grew = (before: string, after: string, series: string) => sample(after, series) - sample(before, series);
    expect(grew(rollerBefore, rollerAfter, 'async_rolls_total{die_type="fair",result="success"}')).toBe(7);
    expect(grew(rollerBefore, rollerAfter, 'async_roll_batch_size_count')).toBe(1);
    expect(grew(rollerBefore, rollerAfter, 'async_roll_batch_size_sum')).toBe(7);
    expect(grew(rollerBefore, rollerAfter, 'async_roll_batch_size_bucket{le="5"}')).toBe(0);
    expect(grew(rollerBefore, rollerAfter, 'async_roll_batch_size_bucket{le="10"}')).toBe(1);
    expect(grew(rollerBefore, rollerAfter, 'async_roll_duration_seconds_count')).toBe(1);
    expect(sample(rollerAfter, 'async_rolls_in_progress')).toBe(0);
    // Rolls in batches are not single rolls.
    expect(grew(rollerBefore, rollerAfter, 'dice_rolls_total{die_type="fair",result="success"}')).toBe(0);
    expect(grew(frontendBefore, frontendAfter, 'async_roll_requests_total{batch_size="7"}')).toBe(1);

    // The failed rolls of a batch are counted one by one, by die.
    await rollBatch('die=always_fails&times=4');
    const failedAfter = await metricsText(chain.diceRoller);
    expect(grew(rollerAfter, failedAfter, 'async_rolls_total{die_type="always_fails",result="error"}')).toBe(4);
  });

  it('carry the trace id of a batch as an exemplar of its duration', async () => {
    await rollBatch('die=fair&times=2');
    const response = await fetch(`${chain.diceRoller.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0' },
    });
    expect(await response.text()).toMatch(
      /^async_roll_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}"\} [\d.e-]+ [\d.]+$/m,
    );
  });

  it('gain no label values from made-up dice or sizes out of range', async () => {
    await rollBatch('die=unknown-warm-up&times=2');
    const before = await Promise.all([metricsText(chain.diceRoller), metricsText(chain.frontend)]);
    const queries = Array.from({ length: 200 }, (_, i) => `die=made-up-${i}&times=${(i % 20) + 1}`);
    for (const size of ['0', '21', '99', '100', '-1', '1e1', '%205', '05', '2.0', 'x']) {
      queries.push(`die=fair&times=${size}`);
    }
    for (let i = 0; i < queries.length; i += 25) {
      await Promise.all(queries.slice(i, i + 25).map((query) => rollBatch(query)));
    }
    const after = await Promise.all([metricsText(chain.diceRoller), metricsText(chain.frontend)]);
    const [rollerBefore, frontendBefore] = before as [string, string];
    const [rollerAfter, frontendAfter] = after as [string, string];
    for (const [metric, label] of [
      ['async_rolls_total', 'die_type'],
      ['die_service_requests_total', 'identifier'],
    ] as const) {
      expect(labelValues(rollerAfter, metric, label), metric).toEqual(labelValues(rollerBefore, metric, label));
    }
    for (const [metric, label] of [
      ['backend_requests_total', 'die_type'],
      ['frontend_requests_total', 'die_type'],
    ] as const) {
      expect(labelValues(frontendAfter, metric, label), metric).toEqual(labelValues(frontendBefore, metric, label));
    }
    const sizes = labelValues(frontendAfter, 'async_roll_requests_total', 'batch_size');
    for (const size of sizes) expect(size).toMatch(/^([1-9]|1\d|20)$/);
    expect(after.join('')).not.toContain('made-up');
  });
});

describe('the scripts: npm run experiment, and the CPU a batch costs', () => {
  const script = path.join(REPO_ROOT, 'scripts', 'roll-async-experiment.mts');

  it('times single rolls one after another against one batch, and prints the speed-up', () => {
    const result = spawnSync(process.execPath, [script, '--url', chain.frontend.url, '--times', '5'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^5 single rolls of "fair", one after another/m);
    expect(result.stdout).toMatch(/^One batch of 5 \(GET \/roll-async\)/m);
    expect(result.stdout).toMatch(/^ {2}trace id: [0-9a-f]{32}$/m);
    expect(result.stdout).toMatch(/^Speed-up: \d+\.\dx$/m);
  });

  it('measures the CPU a batch costs against as many single rolls (scripts/roll-async-cpu.mts)', () => {
    const cpuScript = path.join(REPO_ROOT, 'scripts', 'roll-async-cpu.mts');
    const urls = ['--frontend', chain.frontend.url, '--dice-roller', chain.diceRoller.url];
    const result = spawnSync(
      process.execPath,
      [cpuScript, ...urls, '--die-service', chain.dieService.url, '--batches', '3'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ {2}all three +\d+\.\d\d +\d+\.\d\d$/m);
    expect(result.stdout).toMatch(/^A batch of 10 costs \d+% of 10 single rolls\.$/m);
  });

  it('says what is wrong when no frontend answers', () => {
    const result = spawnSync(process.execPath, [script, '--url', 'http://127.0.0.1:9'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Is the frontend running at http://127.0.0.1:9?');
  });

  it('type-checks, with the CPU measurement (both run without a build step)', () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const result = spawnSync(tsc, ['-p', path.join(REPO_ROOT, 'scripts', 'tsconfig.json')], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});
