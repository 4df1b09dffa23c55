import { DieServiceClient } from 'die-service/client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/capture-logger';
import { unreachableUrl } from '../../test/support/free-url';
import { type Listening, listen, listenDieService, listenSilently } from '../../test/support/in-process';
import { createApp } from '../src/app';

const TIMEOUT_MS = 300;
let dieService: Listening;
let silentUpstream: Listening;
const clients: DieServiceClient[] = [];
let nextRandom = 0.5;
const random = () => nextRandom;

function rollerFor(baseUrl: string, draw: () => number = random) {
  const client = new DieServiceClient({ baseUrl, timeoutMs: TIMEOUT_MS });
  clients.push(client);
  const captured = captureLogger('dice-roller');
  return {
    app: createApp({ dieService: client, logger: captured.logger, maxDelayMs: 0, random: draw }),
    logs: captured.lines,
  };
}

let roller: ReturnType<typeof rollerFor>;

beforeAll(async () => {
  dieService = await listenDieService();
  silentUpstream = await listenSilently();
  roller = rollerFor(dieService.url);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await dieService?.close();
  await silentUpstream?.close();
});

describe('GET /roll', () => {
  it('rolls a face of the die die-service describes', async () => {
    nextRandom = 0.5;
    const response = await request(roller.app).get('/roll?die=fair');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ roll: 4 });
    const messages = roller.logs.map((line) => line.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'Querying die service for specification',
        'Die specification retrieved from service',
        'Die rolled',
      ]),
    );
    expect(roller.logs.find((line) => line.message === 'Die rolled')).toMatchObject({
      die_type: 'fair',
      roll_value: 4,
      level: 'INFO',
    });
  });

  it('fails with the die error rate: 500 "Die \'extreme\' failed!"', async () => {
    nextRandom = 0.1;
    const response = await request(roller.app).get('/roll?die=extreme');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:die-failed',
      status: 500,
      detail: "Die 'extreme' failed!",
    });
    expect(roller.logs.at(-1)).toMatchObject({ level: 'ERROR', message: "Die 'extreme' failed!", die_type: 'extreme' });
  });

  it('passes on an unknown die as 404 with the available dice', async () => {
    const response = await request(roller.app).get('/roll?die=loaded');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:unknown-die',
      detail: "Die 'loaded' not found",
      available: ['fair', 'risky', 'extreme'],
    });
  });

  it.each([
    ['missing', ''],
    ['empty', '?die='],
    ['repeated', '?die=fair&die=risky'],
    ['bracketed', '?die[]=fair'],
    ['over-long', `?die=${'x'.repeat(65)}`],
    ['odd characters', '?die=%3Cscript%3E'],
  ])('rejects a %s die with 400 before calling die-service', async (_name, query) => {
    const before = roller.logs.length;
    const response = await request(roller.app).get(`/roll${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:invalid-parameter', parameter: 'die' });
    expect(roller.logs.slice(before).map((line) => line.message)).not.toContain(
      'Querying die service for specification',
    );
  });
});

describe('when die-service is not there', () => {
  it('answers 503 at once when die-service refuses connections', async () => {
    const { app } = rollerFor(await unreachableUrl());
    const started = performance.now();
    const response = await request(app).get('/roll?die=fair');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:upstream-unavailable',
      detail: 'die-service is unavailable',
    });
    expect(JSON.stringify(response.body)).not.toContain('127.0.0.1');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS * 5);
  });

  it('answers 504 when die-service does not answer within its timeout', async () => {
    const { app } = rollerFor(silentUpstream.url);
    const started = performance.now();
    const response = await request(app).get('/roll?die=fair');
    expect(response.status).toBe(504);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:upstream-timeout' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  });

  it('sends the security headers of an API, on errors too', async () => {
    const { app } = rollerFor(await unreachableUrl());
    const response = await request(app).get('/roll?die=fair');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('is not ready, though alive', async () => {
    const { app } = rollerFor(await unreachableUrl());
    expect((await request(app).get('/health')).status).toBe(200);
    const ready = await request(app).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      type: 'urn:dice-roller:problem:not-ready',
      detail: 'die-service is not reachable',
    });
  });
});

describe('metrics', () => {
  it('labels rolls and die-service calls with known dice only', async () => {
    nextRandom = 0.5;
    await request(roller.app).get('/roll?die=risky');
    for (let i = 0; i < 20; i++) await request(roller.app).get(`/roll?die=invented-${i}`);
    const text = (await request(roller.app).get('/metrics')).text;
    expect(text).toMatch(/^dice_rolls_total\{die_type="fair",result="success"\} [1-9]/m);
    expect(text).toMatch(/^dice_rolls_total\{die_type="extreme",result="error"\} [1-9]/m);
    expect(text).toMatch(/^dice_roll_value_bucket\{le="4",die_type="fair"\} [1-9]/m);
    expect(text).toMatch(/^die_service_requests_total\{identifier="risky",status="success"\} [1-9]/m);
    expect(text).toMatch(/^die_service_requests_total\{identifier="unknown",status="error_404"\} (2[0-9]|[3-9][0-9])/m);
    expect(text).toMatch(/^die_service_requests_total\{identifier="unknown",status="connection_error"\} [1-9]/m);
    expect(text).toMatch(/^die_service_requests_total\{identifier="unknown",status="timeout"\} [1-9]/m);
    expect(text).toMatch(/^die_service_request_duration_seconds_count [1-9]/m);
    expect(text).not.toContain('invented');
  });
});

describe('GET /roll-async', () => {
  /** The draws the next rolls get, in turn (with no delay, a roll draws its failure, then its face). */
  let draws: number[] = [0.5];
  let drawn = 0;
  const drawing = (...values: number[]) => {
    draws = values;
    drawn = 0;
  };
  let batches: ReturnType<typeof rollerFor>;
  beforeAll(() => {
    batches = rollerFor(dieService.url, () => draws[drawn++ % draws.length] as number);
  });

  it('rolls the die `times` times and answers the rolls, their total and their count', async () => {
    drawing(0.5); // never below fair's error rate of 0; face 0.5 * 6 -> the fourth, 4
    const response = await request(batches.app).get('/roll-async?die=fair&times=3');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ total: 12, rolls: [4, 4, 4], count: 3 });
    const messages = batches.logs.map((line) => line.message);
    expect(messages.filter((message) => message === 'Querying die service for specification')).toHaveLength(1);
    expect(batches.logs.find((line) => line.message === 'Async roll batch started')).toMatchObject({
      level: 'INFO',
      die_type: 'fair',
      times: 3,
    });
    expect(batches.logs.filter((line) => line.message === 'Async roll completed')).toHaveLength(3);
    expect(batches.logs.at(-1)).toMatchObject({
      level: 'INFO',
      message: 'Async roll batch completed',
      die_type: 'fair',
      total: 12,
      rolls: [4, 4, 4],
      duration_ms: expect.any(Number),
    });
  });

  it('rolls up to 20 at once', async () => {
    drawing(0.99);
    const response = await request(batches.app).get('/roll-async?die=fair&times=20');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ total: 120, rolls: Array(20).fill(6), count: 20 });
  });

  it('fails the batch when any roll fails: 500 die-failed with the failed rolls, counted from 0', async () => {
    // extreme fails below 0.5: rolls 1 and 3 fail, 0 and 2 land on 0.9 * 6 -> the sixth face.
    drawing(0.9, 0.9, 0.1, 0.9, 0.9, 0.1);
    const before = batches.logs.length;
    const response = await request(batches.app).get('/roll-async?die=extreme&times=4');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual({
      type: 'urn:dice-roller:problem:die-failed',
      title: 'Die failed',
      status: 500,
      detail: "2 of 4 rolls of die 'extreme' failed",
      die: 'extreme',
      failed_rolls: [1, 3],
    });
    const lines = batches.logs.slice(before);
    expect(lines.filter((line) => line.message === 'Async roll triggered error condition')).toEqual([
      expect.objectContaining({ roll_index: 1, die_type: 'extreme' }),
      expect.objectContaining({ roll_index: 3, die_type: 'extreme' }),
    ]);
    expect(lines.find((line) => line.message === 'Async roll batch failed')).toMatchObject({
      level: 'ERROR',
      die_type: 'extreme',
      failed_rolls: [1, 3],
    });
  });

  it.each([
    ['missing', 'die=fair'],
    ['empty', 'die=fair&times='],
    ['repeated', 'die=fair&times=2&times=2'],
    ['bracketed', 'die=fair&times[]=2'],
    ['not an integer', 'die=fair&times=two'],
    ['a fraction', 'die=fair&times=2.5'],
    ['a decimal point', 'die=fair&times=2.0'],
    ['negative', 'die=fair&times=-1'],
    ['0', 'die=fair&times=0'],
    ['21', 'die=fair&times=21'],
    ['100', 'die=fair&times=100'],
    ['an exponent', 'die=fair&times=1e1'],
    ['a hexadecimal number', 'die=fair&times=0x5'],
    ['a leading zero', 'die=fair&times=05'],
    ['a leading space', 'die=fair&times=%205'],
    ['a trailing space', 'die=fair&times=5%20'],
    ['very long', `die=fair&times=${'1'.repeat(5000)}`],
  ])('rejects %s times with 400 naming times, before calling die-service', async (_name, query) => {
    const before = batches.logs.length;
    const response = await request(batches.app).get(`/roll-async?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:invalid-parameter',
      status: 400,
      parameter: 'times',
      detail: expect.stringContaining("'times'"),
    });
    expect(batches.logs.slice(before).map((line) => line.message)).not.toContain(
      'Querying die service for specification',
    );
  });

  it('says what times must be', async () => {
    const response = await request(batches.app).get('/roll-async?die=fair&times=21');
    expect(response.body.detail).toBe("'times' must be an integer from 1 to 20");
  });

  it('checks the die as /roll does', async () => {
    const response = await request(batches.app).get('/roll-async?die=%3Cscript%3E&times=2');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ parameter: 'die' });
  });

  it('passes on an unknown die as 404 with the available dice', async () => {
    const response = await request(batches.app).get('/roll-async?die=loaded&times=2');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:unknown-die',
      available: ['fair', 'risky', 'extreme'],
    });
  });

  it('answers 503 when die-service refuses connections, 504 when it does not answer', async () => {
    const down = rollerFor(await unreachableUrl());
    expect((await request(down.app).get('/roll-async?die=fair&times=2')).body).toMatchObject({
      status: 503,
      type: 'urn:dice-roller:problem:upstream-unavailable',
    });
    const slow = rollerFor(silentUpstream.url);
    expect((await request(slow.app).get('/roll-async?die=fair&times=2')).body).toMatchObject({
      status: 504,
      type: 'urn:dice-roller:problem:upstream-timeout',
    });
  });

  it('allows only GET and HEAD', async () => {
    const response = await request(batches.app).post('/roll-async?die=fair&times=2');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });
});

describe('RED metrics', () => {
  it('count a request whose client gave up before the answer', async () => {
    const client = new DieServiceClient({ baseUrl: dieService.url, timeoutMs: TIMEOUT_MS });
    clients.push(client);
    const slowRoller = createApp({
      dieService: client,
      logger: captureLogger().logger,
      maxDelayMs: 400,
      random: () => 0.99,
    });
    const server = await listen(slowRoller);
    try {
      // The registry is process-wide: count this test's requests as a difference.
      const rollRequests = async () => {
        const text = await (await fetch(`${server.url}/metrics`)).text();
        const counts = text.matchAll(/^http_requests_total\{method="GET",handler="\/roll",status="\dxx"\} (\d+)$/gm);
        return [...counts].reduce((sum, match) => sum + Number(match[1]), 0);
      };
      const before = await rollRequests();
      await expect(fetch(`${server.url}/roll?die=fair`, { signal: AbortSignal.timeout(50) })).rejects.toThrow();
      await expect.poll(rollRequests, { timeout: 5_000 }).toBe(before + 1);
    } finally {
      await server.close();
    }
  });
});
