import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Summary } from '../../traffic-gen/src/summary';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { freePort } from '../support/ports';
import { type Chain, type ServiceProcess, startChain, startService } from '../support/service-process';
import {
  killLeftoverTrafficGen,
  runTrafficGen,
  runTrafficGenOnTerminal,
  TrafficGenProcess,
} from './traffic-gen-process';

const receiver = new OtlpReceiver();
let endpoint: string;
let chain: Chain;
let url: string;

beforeAll(async () => {
  endpoint = await receiver.start();
  chain = await startChain({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ROLL_DELAY_MAX_MS: '20' });
  url = chain.frontend.url;
});

afterAll(async () => {
  await killLeftoverTrafficGen();
  await chain?.stop();
  await receiver.stop();
});

/** Spans of traffic-gen, the frontend, dice-roller and die-service for one roll; a batch adds a span per die. */
const SPANS_PER_ROLL = 7;

type Rolled = Pick<NonNullable<Summary['slowest']>, 'trace_id' | 'die' | 'kind' | 'dice'>;

function expectCountsAddUp(summary: Summary): void {
  expect(summary.successes + summary.failures).toBe(summary.requests);
  const byDie = Object.values(summary.by_die);
  expect(byDie.reduce((sum, die) => sum + die.requests, 0)).toBe(summary.requests);
  expect(byDie.reduce((sum, die) => sum + die.failures, 0)).toBe(summary.failures);
  expect(Object.values(summary.failures_by_status).reduce((a, b) => a + b, 0)).toBe(summary.failures);
  for (const die of byDie) {
    expect(die.successes + die.failures).toBe(die.requests);
    expect(Object.values(die.failures_by_status).reduce((a, b) => a + b, 0)).toBe(die.failures);
  }
}

function one(spans: ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const matching = spans.filter(predicate);
  expect(matching, what).toHaveLength(1);
  return matching[0] as ReceivedSpan;
}

/** The trace starts in traffic-gen and continues in the frontend: root -> client -> frontend server. */
async function expectTraceFromTrafficGen(rolled: Rolled | null): Promise<ReceivedSpan[]> {
  const { trace_id: traceId, die, kind, dice } = rolled ?? expect.fail('no request named in the summary');
  const batch = kind === 'batch';
  const spans = await receiver.waitForTrace(String(traceId), SPANS_PER_ROLL + (batch ? dice : 0));
  const root = one(spans, (span) => span.parentSpanId === undefined, 'root span');
  expect(root).toMatchObject({ service: 'traffic-gen', name: batch ? `roll batch ${die}` : `roll ${die}` });
  expect(root.kind).toBe('internal');
  expect(root.attributes['die.type']).toBe(die);
  if (batch) expect(root.attributes['async.batch_size']).toBe(dice);
  const client = one(spans, (span) => span.service === 'traffic-gen' && span.kind === 'client', 'traffic-gen client');
  expect(client.parentSpanId).toBe(root.spanId);
  const frontendServer = one(
    spans,
    (span) => span.service === 'frontend' && span.kind === 'server',
    'frontend server span',
  );
  expect(frontendServer.parentSpanId).toBe(client.spanId);
  expect(spans.filter((span) => span.service === 'die-service' && span.kind === 'server')).toHaveLength(1);
  return spans;
}

describe('traffic-gen against the running services', () => {
  it('runs the user model: counts add up, every user finishes and logs it, summary on stdout only', async () => {
    const users = 4;
    const maxRolls = 5;
    const run = await runTrafficGen(
      ['--url', url, '--users', `${users}`, '--max-rolls', `${maxRolls}`, '--think-time', '0-0.01', '--json'],
      endpoint,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const summary = run.summary();
    expect(summary).toMatchObject({
      model: 'users',
      url,
      interrupted: false,
      users: { total: users, completed: users },
    });
    expect(summary.dice).toEqual(['fair', 'risky', 'extreme']);
    expect(summary.requests).toBeGreaterThanOrEqual(users);
    expect(summary.requests).toBeLessThanOrEqual(users * maxRolls);
    expectCountsAddUp(summary);
    const { p50, p95, p99, max } = summary.latency_ms;
    expect(p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= max).toBe(true);
    expect(summary.rate.achieved).toBeGreaterThan(0);

    const logs = run.logs();
    const completed = logs.filter((line) => line.message === 'User completed');
    expect(completed.map((line) => line.user).sort()).toEqual([1, 2, 3, 4]);
    expect(completed.reduce((sum, line) => sum + Number(line.rolls), 0)).toBe(summary.requests);
    expect(logs.at(-1)).toMatchObject({
      service: 'traffic-gen',
      level: 'INFO',
      message: 'Traffic generation complete',
      requests: summary.requests,
    });

    // The slowest request's trace id is a trace that starts in traffic-gen.
    const slowest = summary.slowest;
    expect(slowest?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    await expectTraceFromTrafficGen(slowest);
  });

  it('repeats the same run with the same --seed', async () => {
    const args = ['--url', url, '--users', '3', '--max-rolls', '8', '--think-time', '0', '--seed', '42', '--json'];
    const [first, second] = await Promise.all([runTrafficGen(args, endpoint), runTrafficGen(args, endpoint)]);
    const requestsByDie = (summary: Summary) =>
      Object.fromEntries(Object.entries(summary.by_die).map(([die, tally]) => [die, tally.requests]));
    expect(first.summary().seed).toBe(42);
    expect(requestsByDie(first.summary())).toEqual(requestsByDie(second.summary()));
    const rollsPerUser = (logs: Record<string, unknown>[]) =>
      Object.fromEntries(logs.filter((l) => l.message === 'User completed').map((l) => [l.user, l.rolls]));
    expect(Object.keys(rollsPerUser(first.logs()))).toHaveLength(3);
    expect(rollsPerUser(first.logs())).toEqual(rollsPerUser(second.logs()));
  });

  it('runs the open model at --rate for --duration and reports failures of a failing die by status', async () => {
    const run = await runTrafficGen(
      ['--url', url, '--rate', '100', '--duration', '0.5s', '--dice', 'extreme', '--json'],
      endpoint,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = run.summary();
    // Arrivals at 0, 10, ..., 490 ms.
    expect(summary.requests + summary.dropped + summary.in_flight_abandoned).toBe(50);
    // The rate is over the half second of sending, not over the wait for the last answers.
    const sent = summary.requests + summary.in_flight_abandoned;
    expect(summary.rate.window_s).toBeGreaterThanOrEqual(0.5);
    // Both figures are rounded in the summary: their product is the requests sent, within half a request.
    expect(summary.rate.achieved * summary.rate.window_s).toBeCloseTo(sent, 0);
    expect(summary.drain_s).toBeGreaterThan(0);
    expect(summary.elapsed_s).toBeGreaterThanOrEqual(summary.rate.window_s + Number(summary.drain_s) - 0.01);
    expect(summary).toMatchObject({ model: 'open', dice: ['extreme'], rate: { target: 100 }, users: null });
    expectCountsAddUp(summary);
    // extreme fails half the time: P(no failure in 50 rolls) = 2^-50.
    expect(summary.failures_by_status['500']).toBeGreaterThan(0);
    expect(summary.by_die.extreme?.failures_by_status['500']).toBe(summary.failures_by_status['500']);

    expect(summary.failed).toMatchObject({ die: 'extreme', status: '500' });
    const spans = await expectTraceFromTrafficGen(summary.failed);
    const root = spans.find((span) => span.parentSpanId === undefined);
    expect(root?.status.code).toBe('error');
    expect(spans.find((span) => span.service === 'dice-roller' && span.kind === 'server')?.status.code).toBe('error');
  });

  it('rolls a share of batches through /roll-async, each a trace with a roll span per die, counted apart', async () => {
    const spansBefore = receiver.spans.length;
    const run = await runTrafficGen(
      ['--url', url, '--rate', '40', '--duration', '1s', '--batch-share', '0.5', '--max-batch', '5', '--json'],
      endpoint,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = run.summary();
    expectCountsAddUp(summary);
    const { single, batch } = summary.by_kind;
    // Each arrival is a batch with probability 0.5: P(40 of one kind) = 2 x 2^-40.
    expect(single.requests).toBeGreaterThan(0);
    expect(batch.requests).toBeGreaterThan(0);
    expect(single.requests + batch.requests).toBe(summary.requests);
    expect(single.successes + batch.successes).toBe(summary.successes);
    expect(single.dice).toBe(single.requests);
    expect(batch.dice).toBeGreaterThanOrEqual(2 * batch.requests);
    expect(batch.dice).toBeLessThanOrEqual(5 * batch.requests);

    // A batch's trace: traffic-gen's root span, the frontend's /roll-async, and dice-roller's roll spans.
    const batchRoot = await receiver.waitFor((spans) =>
      spans.slice(spansBefore).find((span) => span.service === 'traffic-gen' && span.name.startsWith('roll batch ')),
    );
    const size = Number(batchRoot.attributes['async.batch_size']);
    expect(size).toBeGreaterThanOrEqual(2);
    expect(size).toBeLessThanOrEqual(5);
    const spans = await receiver.waitForTrace(batchRoot.traceId, SPANS_PER_ROLL + size);
    expect(spans.some((span) => span.service === 'frontend' && span.name === 'GET /roll-async')).toBe(true);
    const roller = one(spans, (span) => span.service === 'dice-roller' && span.kind === 'server', 'dice-roller server');
    expect(spans.filter((span) => span.name === 'roll' && span.parentSpanId === roller.spanId)).toHaveLength(size);
  });

  it('stops on Ctrl-C: no new requests, summary of what was done, spans flushed, exit 130', async () => {
    const trafficGen = new TrafficGenProcess(['--url', url, '--rate', '50', '--dice', 'fair', '--json'], endpoint);
    await trafficGen.waitForStderr('Traffic generation started');
    const spansBefore = receiver.spans.length;
    // Some rolls have been traced and exported: the run is well under way.
    await receiver.waitFor((spans) =>
      spans.slice(spansBefore).filter((span) => span.service === 'traffic-gen' && span.name === 'roll fair').length >= 5
        ? true
        : undefined,
    );
    trafficGen.signal('SIGINT');
    const run = await trafficGen.done;
    expect(run.code, run.stderr).toBe(130);
    const summary = run.summary();
    expect(summary.interrupted).toBe(true);
    expect(summary.requests).toBeGreaterThanOrEqual(5);
    expectCountsAddUp(summary);
    expect(run.stderr).toContain('Stopping (SIGINT)');
    expect(run.logs().at(-1)).toMatchObject({ message: 'Traffic generation interrupted' });
    // The last requests' spans were flushed before exit.
    await receiver.waitFor((spans) =>
      spans.some((span) => span.traceId === summary.slowest?.trace_id && span.service === 'traffic-gen')
        ? true
        : undefined,
    );
  });

  it('exits 1 at start when --url is another Dice Roller service, naming it', async () => {
    // die-service serves GET /dice too, so a listing alone would take it for the frontend.
    const run = await runTrafficGen(['--url', chain.dieService.url], endpoint);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`${chain.dieService.url} is die-service, not the frontend`);
    expect(run.stderr).toContain('Check --url');
  });

  it('rejects --dice naming a die the system does not offer, with what it offers', async () => {
    const run = await runTrafficGen(['--url', url, '--dice', 'fair,loaded'], endpoint);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const error = run.logs().find((line) => line.level === 'ERROR');
    expect(error?.message).toContain('--dice: "loaded" not offered by the system');
    expect(error?.message).toContain('(it offers fair, risky, extreme)');
  });
});

describe('traffic-gen logs, for a log collector and for a person', () => {
  it('writes nothing but JSON log lines to stderr when it is not a terminal, progress included', async () => {
    const run = await runTrafficGen(
      ['--url', url, '--rate', '10', '--duration', '5.5s', '--dice', 'fair', '--json'],
      endpoint,
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n').filter((line) => line !== '');
    for (const line of lines) {
      expect(JSON.parse(line), line).toMatchObject({ service: 'traffic-gen', level: expect.any(String) });
    }
    expect(run.logs().filter((line) => line.message === 'Progress')).toHaveLength(1);
    expect(run.logs().find((line) => line.message === 'Progress')).toMatchObject({ requests: expect.any(Number) });
  });

  it('on a terminal, shows readable log lines, not JSON', async () => {
    const run = await runTrafficGenOnTerminal(
      ['--url', url, '--users', '2', '--max-rolls', '2', '--think-time', '0'],
      endpoint,
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/\d\d:\d\d:\d\d INFO +Traffic generation started model=users/);
    expect(run.output).not.toContain('{"level"');
    expect(run.output).toContain('Succeeded');
  });

  it('in a container on a terminal (NODE_ENV=production, as the image sets), still writes JSON lines only', async () => {
    // `docker compose run --rm traffic-gen ...` gives the container a TTY; Alloy reads what it writes.
    const run = await runTrafficGenOnTerminal(
      ['--url', url, '--users', '2', '--max-rolls', '2', '--think-time', '0', '--json'],
      endpoint,
      { NODE_ENV: 'production' },
    );
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain('\x1b');
    const lines = run.output.split(/\r?\n/).filter((line) => line !== '');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((record) => record.service === 'traffic-gen').map((record) => record.message)).toContain(
      'Traffic generation complete',
    );
    // The one line that is not a log line is the --json summary.
    expect(records.filter((record) => record.service === undefined)).toEqual([
      expect.objectContaining({ model: 'users' }),
    ]);
  });
});

describe('traffic-gen when it cannot run', () => {
  let lonelyFrontend: ServiceProcess | undefined;

  afterAll(async () => {
    await killLeftoverTrafficGen();
    await lonelyFrontend?.stop();
  });

  it('exits 1 within seconds when nothing answers at --url, saying what to start', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const run = await runTrafficGen(['--url', nowhere], endpoint);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`Cannot reach the frontend at ${nowhere}`);
    expect(run.stderr).toContain('npm start');
    // Connection refused is immediate; the allowance is for starting node on a busy machine.
    expect(run.elapsedMs).toBeLessThan(6_000);
  });

  it('exits 1 naming die-service when the frontend answers but cannot list the dice', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    lonelyFrontend = await startService('frontend', {
      env: { DIE_SERVICE_URL: nowhere, DICE_ROLLER_URL: nowhere, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
    });
    const run = await runTrafficGen(['--url', lonelyFrontend.url], endpoint);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('answers but cannot list the dice');
    expect(run.stderr).toContain('HTTP 503');
    expect(run.stderr).toContain('Start die-service');
  });

  it('exits 3 after the summary when not one roll succeeded', async () => {
    // The frontend lists the dice (die-service is up) but every roll is a 503 (dice-roller is not).
    const brokenFrontend = await startService('frontend', {
      env: {
        DIE_SERVICE_URL: chain.dieService.url,
        DICE_ROLLER_URL: `http://127.0.0.1:${await freePort()}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      },
    });
    try {
      const run = await runTrafficGen(
        ['--url', brokenFrontend.url, '--users', '2', '--max-rolls', '3', '--think-time', '0', '--json'],
        endpoint,
      );
      expect(run.code, run.stderr).toBe(3);
      const summary = run.summary();
      expect(summary.successes).toBe(0);
      expect(summary.failures_by_status['503']).toBe(summary.requests);
      expect(run.logs().at(-1)).toMatchObject({
        level: 'ERROR',
        message: `none of the ${summary.requests} rolls succeeded (503 x ${summary.requests}).`,
      });
    } finally {
      await brokenFrontend.stop();
    }
  });

  it('exits 2 with a usage error for bad options, and prints the help with --help', async () => {
    const [bad, conflicting, help] = await Promise.all([
      runTrafficGen(['--users', 'ten'], endpoint),
      runTrafficGen(['--rate', '10', '--max-rolls', '3'], endpoint),
      runTrafficGen(['--help'], endpoint),
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--users must be a whole number from 1 to 10000 (got "ten")');
    expect(bad.stderr).toContain('Run traffic-gen --help');
    expect(conflicting.code).toBe(2);
    expect(conflicting.stderr).toContain('--max-rolls belongs to the user model');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: traffic-gen [options]');
    expect(help.stdout).toContain('--think-time MIN-MAX');
  });
});
