import { DiceRollerClient } from 'dice-roller/client';
import { DieServiceClient } from 'die-service/client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createDiceRollerApp } from '../../dice-roller/src/app';
import { parseServerTiming } from '../../telemetry/src/service-kit/server-timing-header';
import { captureLogger } from '../../test/support/capture-logger';
import { unreachableUrl } from '../../test/support/free-url';
import { type Listening, listen, listenDieService, listenSilently } from '../../test/support/in-process';
import { createApp } from '../src/app';

const TIMEOUT_MS = 300;
let dieServiceServer: Listening;
let diceRollerServer: Listening;
let silent: Listening;
const closers: { close(): Promise<void> }[] = [];
let nextRandom = 0.5;

function frontendFor(diceRollerUrl: string, dieServiceUrl: string, grafanaUrl?: string) {
  const diceRoller = new DiceRollerClient({ baseUrl: diceRollerUrl, timeoutMs: TIMEOUT_MS });
  const dieService = new DieServiceClient({ baseUrl: dieServiceUrl, timeoutMs: TIMEOUT_MS });
  closers.push(diceRoller, dieService);
  const captured = captureLogger('frontend');
  return { app: createApp({ diceRoller, dieService, logger: captured.logger, grafanaUrl }), logs: captured.lines };
}

/** The Server-Timing entry names of a response, in order. */
function timingNames(response: request.Response): string[] {
  return parseServerTiming(response.headers['server-timing']).map((entry) => entry.name);
}

let frontend: ReturnType<typeof frontendFor>;

beforeAll(async () => {
  dieServiceServer = await listenDieService();
  const rollerClient = new DieServiceClient({ baseUrl: dieServiceServer.url, timeoutMs: TIMEOUT_MS });
  closers.push(rollerClient);
  diceRollerServer = await listen(
    createDiceRollerApp({
      dieService: rollerClient,
      logger: captureLogger().logger,
      maxDelayMs: 0,
      random: () => nextRandom,
    }),
  );
  silent = await listenSilently();
  frontend = frontendFor(diceRollerServer.url, dieServiceServer.url);
});

afterAll(async () => {
  await Promise.all(closers.map((closer) => closer.close()));
  await Promise.all([dieServiceServer?.close(), diceRollerServer?.close(), silent?.close()]);
});

describe('GET /roll', () => {
  it('returns the roll', async () => {
    nextRandom = 0.99;
    const response = await request(frontend.app).get('/roll?die=fair');
    expect(response.status).toBe(200);
    expect(response.body.roll).toBe(6);
    expect(frontend.logs.map((line) => line.message)).toEqual(
      expect.arrayContaining(['Roll requested', 'Roll succeeded']),
    );
  });

  it("keeps dice-roller's status and detail for a failed die", async () => {
    nextRandom = 0.05; // below risky's error rate of 0.1
    const response = await request(frontend.app).get('/roll?die=risky');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:die-failed', detail: "Die 'risky' failed!" });
  });

  it('keeps the 404 and the list of available dice for an unknown die', async () => {
    const response = await request(frontend.app).get('/roll?die=loaded');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:unknown-die',
      available: ['fair', 'risky', 'extreme'],
    });
  });

  it.each([
    ['missing', ''],
    ['empty', '?die='],
    ['repeated', '?die=a&die=b'],
    ['too long', `?die=${'d'.repeat(100)}`],
    ['odd characters', '?die=f%00ir'],
  ])('rejects a %s die with 400', async (_name, query) => {
    const response = await request(frontend.app).get(`/roll${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:invalid-parameter', parameter: 'die' });
  });

  it('answers 503 when dice-roller is unreachable', async () => {
    const { app } = frontendFor(await unreachableUrl(), dieServiceServer.url);
    const response = await request(app).get('/roll?die=fair');
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:upstream-unavailable',
      detail: 'dice-roller is unavailable',
    });
  });

  it('answers 504 when dice-roller is too slow', async () => {
    const { app } = frontendFor(silent.url, dieServiceServer.url);
    const response = await request(app).get('/roll?die=fair');
    expect(response.status).toBe(504);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:upstream-timeout' });
  });

  it('answers 502 when dice-roller answers outside its contract, and counts its status code', async () => {
    const gateway = await listen((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
    });
    try {
      const { app } = frontendFor(gateway.url, dieServiceServer.url);
      const response = await request(app).get('/roll?die=fair');
      expect(response.status).toBe(502);
      expect(response.body).toMatchObject({
        type: 'urn:dice-roller:problem:upstream-error',
        detail: 'dice-roller gave an unexpected answer',
      });
      const metrics = (await request(app).get('/metrics')).text;
      expect(metrics).toMatch(/^backend_requests_total\{die_type="[a-z]+",status_code="502"\} [1-9]/m);
    } finally {
      await gateway.close();
    }
  });
});

describe('the UI', () => {
  it('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const response = await request(frontend.app).get('/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.text).toContain('src="/assets/app.js"');
  });

  it('serves its assets and 404s a path traversal', async () => {
    expect((await request(frontend.app).get('/assets/app.js')).status).toBe(200);
    expect((await request(frontend.app).get('/assets/styles.css')).status).toBe(200);
    expect((await request(frontend.app).get('/assets/favicon.svg')).status).toBe(200);
    const traversal = await request(frontend.app).get('/assets/..%2F..%2Fpackage.json');
    expect(traversal.status).toBe(404);
  });

  it('lists the dice die-service knows', async () => {
    const response = await request(frontend.app).get('/dice');
    expect(response.body).toEqual({ identifiers: ['fair', 'risky', 'extreme'] });
  });

  it('answers 503 for the dice list while die-service is down, and the page still loads', async () => {
    const { app } = frontendFor(diceRollerServer.url, await unreachableUrl());
    expect((await request(app).get('/dice')).status).toBe(503);
    expect((await request(app).get('/')).status).toBe(200);
  });
});

describe('Server-Timing', () => {
  const CHAIN = ['frontend', 'frontend.wait', 'dice-roller', 'dice-roller.wait', 'die-service'];

  it("relays dice-roller's and die-service's timings after the frontend's own", async () => {
    nextRandom = 0.5;
    const response = await request(frontend.app).get('/roll?die=fair');
    expect(response.status).toBe(200);
    const entries = parseServerTiming(response.headers['server-timing']);
    expect(entries.map((entry) => entry.name)).toEqual(CHAIN);
    expect(entries[1]).toMatchObject({ description: 'frontend waiting on dice-roller' });
    expect(entries[3]).toMatchObject({ description: 'dice-roller waiting on die-service' });
    const duration = (name: string) => entries.find((entry) => entry.name === name)?.duration ?? Number.NaN;
    // Each service's time contains its wait, and each wait contains the next service's time.
    expect(duration('frontend')).toBeGreaterThanOrEqual(duration('frontend.wait'));
    expect(duration('frontend.wait')).toBeGreaterThanOrEqual(duration('dice-roller'));
    expect(duration('dice-roller')).toBeGreaterThanOrEqual(duration('dice-roller.wait'));
    expect(duration('dice-roller.wait')).toBeGreaterThanOrEqual(duration('die-service'));
  });

  it('relays them for a failed roll and an unknown die too', async () => {
    nextRandom = 0.05;
    expect(timingNames(await request(frontend.app).get('/roll?die=risky'))).toEqual(CHAIN);
    expect(timingNames(await request(frontend.app).get('/roll?die=loaded'))).toEqual(CHAIN);
  });

  it('has the wait alone when dice-roller does not answer', async () => {
    const { app } = frontendFor(await unreachableUrl(), dieServiceServer.url);
    const response = await request(app).get('/roll?die=fair');
    expect(response.status).toBe(503);
    expect(timingNames(response)).toEqual(['frontend', 'frontend.wait']);
  });

  it('has only its own time for a rejected request', async () => {
    expect(timingNames(await request(frontend.app).get('/roll?die='))).toEqual(['frontend']);
  });

  it("times the wait on die-service for the dice list, and relays die-service's own timing", async () => {
    const response = await request(frontend.app).get('/dice');
    expect(parseServerTiming(response.headers['server-timing'])).toEqual([
      expect.objectContaining({ name: 'frontend' }),
      expect.objectContaining({ name: 'frontend.wait', description: 'frontend waiting on die-service' }),
      expect.objectContaining({ name: 'die-service', description: 'die-service total' }),
    ]);
  });

  it('comes with the page and its assets too, without traceresponse when there is no trace', async () => {
    const response = await request(frontend.app).get('/');
    expect(timingNames(response)).toEqual(['frontend']);
    expect(response.headers.traceresponse).toBeUndefined();
  });
});

describe('GET /ui-config', () => {
  it('has no Grafana links without GRAFANA_URL', async () => {
    const response = await request(frontend.app).get('/ui-config');
    expect(response.body).toEqual({ grafana_url: null, links: null });
  });

  it('gives the page link templates for a trace and its logs with GRAFANA_URL', async () => {
    const { app } = frontendFor(diceRollerServer.url, dieServiceServer.url, 'http://grafana.test:3000');
    const response = await request(app).get('/ui-config');
    expect(response.body).toEqual({
      grafana_url: 'http://grafana.test:3000',
      links: {
        trace: expect.stringMatching(/^http:\/\/grafana\.test:3000\/explore\?.*__TRACE_ID__/),
        logs: expect.stringMatching(/^http:\/\/grafana\.test:3000\/explore\?.*__TRACE_ID__/),
      },
    });
  });
});

describe('metrics', () => {
  it('labels requests by known die, counting made-up dice as unknown', async () => {
    nextRandom = 0.5;
    for (let i = 0; i < 10; i++) await request(frontend.app).get(`/roll?die=made-up-${i}`);
    await request(frontend.app).get('/roll?die=fair');
    const text = (await request(frontend.app).get('/metrics')).text;
    expect(text).toMatch(/^frontend_requests_total\{die_type="fair",status="received"\} [1-9]/m);
    expect(text).toMatch(/^frontend_requests_total\{die_type="fair",status="success"\} [1-9]/m);
    expect(text).toMatch(/^frontend_requests_total\{die_type="risky",status="error"\} [1-9]/m);
    expect(text).toMatch(/^frontend_requests_total\{die_type="unknown",status="received"\} [1-9]/m);
    expect(text).toMatch(/^backend_requests_total\{die_type="fair",status_code="200"\} [1-9]/m);
    expect(text).toMatch(/^backend_requests_total\{die_type="unknown",status_code="404"\} (1[0-9]|[2-9][0-9])/m);
    expect(text).toMatch(/^backend_requests_total\{die_type="unknown",status_code="connection_error"\} [1-9]/m);
    expect(text).toMatch(/^backend_requests_total\{die_type="unknown",status_code="timeout"\} [1-9]/m);
    expect(text).toMatch(/^backend_request_duration_seconds_count\{die_type="fair"\} [1-9]/m);
    expect(text).not.toContain('made-up');
  });
});

describe('GET /roll-async', () => {
  it("relays dice-roller's batch", async () => {
    nextRandom = 0.99;
    const response = await request(frontend.app).get('/roll-async?die=fair&times=4');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ total: 24, rolls: [6, 6, 6, 6], count: 4 });
    expect(frontend.logs.map((line) => line.message)).toEqual(
      expect.arrayContaining(['Roll batch requested', 'Roll batch succeeded']),
    );
  });

  it("keeps dice-roller's status, detail and failed rolls for a failed batch", async () => {
    nextRandom = 0.05; // below risky's error rate of 0.1: every roll fails
    const response = await request(frontend.app).get('/roll-async?die=risky&times=3');
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:die-failed',
      detail: "3 of 3 rolls of die 'risky' failed",
      failed_rolls: [0, 1, 2],
    });
  });

  it('keeps the 404 and the available dice for an unknown die', async () => {
    const response = await request(frontend.app).get('/roll-async?die=loaded&times=2');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ available: ['fair', 'risky', 'extreme'] });
  });

  it.each([
    ['missing', 'die=fair'],
    ['0', 'die=fair&times=0'],
    ['21', 'die=fair&times=21'],
    ['an exponent', 'die=fair&times=1e1'],
    ['a leading space', 'die=fair&times=%205'],
    ['repeated', 'die=fair&times=1&times=2'],
  ])('rejects %s times with 400 naming times, without asking dice-roller', async (_name, query) => {
    // Nothing listens where this frontend's dice-roller should be: asking it would be a 503.
    const { app } = frontendFor(await unreachableUrl(), dieServiceServer.url);
    const response = await request(app).get(`/roll-async?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:invalid-parameter', parameter: 'times' });
  });

  it('answers 503 when dice-roller is unreachable, 504 when it is too slow', async () => {
    const down = frontendFor(await unreachableUrl(), dieServiceServer.url);
    expect((await request(down.app).get('/roll-async?die=fair&times=2')).status).toBe(503);
    const slow = frontendFor(silent.url, dieServiceServer.url);
    expect((await request(slow.app).get('/roll-async?die=fair&times=2')).status).toBe(504);
  });

  it('counts batch requests by size, valid sizes only, and their calls to dice-roller', async () => {
    const calls = async () => {
      const text = (await request(frontend.app).get('/metrics')).text;
      return Number(/^backend_requests_total\{die_type="fair",status_code="200"\} (\d+)/m.exec(text)?.[1] ?? 0);
    };
    nextRandom = 0.5;
    const before = await calls();
    await request(frontend.app).get('/roll-async?die=fair&times=7');
    await request(frontend.app).get('/roll-async?die=fair&times=77');
    const text = (await request(frontend.app).get('/metrics')).text;
    expect(text).toMatch(/^async_roll_requests_total\{batch_size="7"\} [1-9]/m);
    expect(text).not.toContain('batch_size="77"');
    // One call to dice-roller for the valid batch, none for the other.
    expect(await calls()).toBe(before + 1);
  });
});
