import { DiceRollerClient } from 'dice-roller/client';
import { DieServiceClient } from 'die-service/client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createDiceRollerApp } from '../../dice-roller/src/app';
import { createApp as createDieServiceApp } from '../../die-service/src/app';
import { BUNDLED_SPECIFICATIONS_FILE, loadSpecificationsFile } from '../../die-service/src/specifications-file';
import { captureLogger } from '../../test/support/capture-logger';
import { unreachableUrl } from '../../test/support/free-url';
import { type Listening, listen, listenSilently } from '../../test/support/in-process';
import { createApp } from '../src/app';

const TIMEOUT_MS = 300;
let dieServiceServer: Listening;
let diceRollerServer: Listening;
let silent: Listening;
const closers: { close(): Promise<void> }[] = [];
const rollerLogs = captureLogger('dice-roller');
let nextRandom = 0.5;

function frontendFor(diceRollerUrl: string) {
  const diceRoller = new DiceRollerClient({ baseUrl: diceRollerUrl, timeoutMs: TIMEOUT_MS });
  const dieService = new DieServiceClient({ baseUrl: dieServiceServer.url, timeoutMs: TIMEOUT_MS });
  closers.push(diceRoller, dieService);
  const captured = captureLogger('frontend');
  return { app: createApp({ diceRoller, dieService, logger: captured.logger }), logs: captured.lines };
}

let frontend: ReturnType<typeof frontendFor>;

beforeAll(async () => {
  dieServiceServer = await listen(
    createDieServiceApp({
      catalog: loadSpecificationsFile(BUNDLED_SPECIFICATIONS_FILE),
      logger: captureLogger().logger,
    }),
  );
  const rollerClient = new DieServiceClient({ baseUrl: dieServiceServer.url, timeoutMs: TIMEOUT_MS });
  closers.push(rollerClient);
  diceRollerServer = await listen(
    createDiceRollerApp({
      dieService: rollerClient,
      logger: rollerLogs.logger,
      maxDelayMs: 0,
      random: () => nextRandom,
    }),
  );
  silent = await listenSilently();
  frontend = frontendFor(diceRollerServer.url);
});

afterAll(async () => {
  await Promise.all(closers.map((closer) => closer.close()));
  await Promise.all([dieServiceServer?.close(), diceRollerServer?.close(), silent?.close()]);
});

const metricsText = async () => (await request(frontend.app).get('/metrics')).text;

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
    const before = rollerLogs.lines.length;
    const response = await request(frontend.app).get(`/roll-async?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: 'urn:dice-roller:problem:invalid-parameter', parameter: 'times' });
    expect(rollerLogs.lines.length).toBe(before);
  });

  it('answers 503 when dice-roller is unreachable, 504 when it is too slow', async () => {
    const down = frontendFor(await unreachableUrl());
    expect((await request(down.app).get('/roll-async?die=fair&times=2')).status).toBe(503);
    const slow = frontendFor(silent.url);
    expect((await request(slow.app).get('/roll-async?die=fair&times=2')).status).toBe(504);
  });

  it('counts batch requests by size, valid sizes only, and their calls to dice-roller', async () => {
    nextRandom = 0.5;
    await request(frontend.app).get('/roll-async?die=fair&times=7');
    await request(frontend.app).get('/roll-async?die=fair&times=77');
    const text = await metricsText();
    expect(text).toMatch(/^async_roll_requests_total\{batch_size="7"\} [1-9]/m);
    expect(text).not.toContain('batch_size="77"');
    expect(text).toMatch(/^backend_requests_total\{die_type="fair",status_code="200"\} [1-9]/m);
  });
});
