import { DieServiceClient } from 'die-service/client';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp as createDieServiceApp } from '../../die-service/src/app';
import { BUNDLED_SPECIFICATIONS_FILE, loadSpecificationsFile } from '../../die-service/src/specifications-file';
import { captureLogger } from '../../test/support/capture-logger';
import { unreachableUrl } from '../../test/support/free-url';
import { type Listening, listen, listenSilently } from '../../test/support/in-process';
import { createApp } from '../src/app';

const TIMEOUT_MS = 300;
let dieService: Listening;
let silentUpstream: Listening;
const clients: DieServiceClient[] = [];

/** The draws the next rolls get, in turn (with no delay, a roll draws its failure, then its face). */
let draws: number[] = [0.5];
let drawn = 0;
const random = () => draws[drawn++ % draws.length] as number;
function drawing(...values: number[]): void {
  draws = values;
  drawn = 0;
}

function rollerFor(baseUrl: string) {
  const client = new DieServiceClient({ baseUrl, timeoutMs: TIMEOUT_MS });
  clients.push(client);
  const captured = captureLogger('dice-roller');
  return {
    app: createApp({ dieService: client, logger: captured.logger, maxDelayMs: 0, random }),
    logs: captured.lines,
  };
}

let roller: ReturnType<typeof rollerFor>;

beforeAll(async () => {
  dieService = await listen(
    createDieServiceApp({
      catalog: loadSpecificationsFile(BUNDLED_SPECIFICATIONS_FILE),
      logger: captureLogger().logger,
    }),
  );
  silentUpstream = await listenSilently();
  roller = rollerFor(dieService.url);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await dieService?.close();
  await silentUpstream?.close();
});

describe('GET /roll-async', () => {
  it('rolls the die `times` times and answers the rolls, their total and their count', async () => {
    drawing(0.5); // never below fair's error rate of 0; face 0.5 * 6 -> the fourth, 4
    const response = await request(roller.app).get('/roll-async?die=fair&times=3');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ total: 12, rolls: [4, 4, 4], count: 3 });
    const messages = roller.logs.map((line) => line.message);
    expect(messages.filter((message) => message === 'Querying die service for specification')).toHaveLength(1);
    expect(roller.logs.find((line) => line.message === 'Async roll batch started')).toMatchObject({
      level: 'INFO',
      die_type: 'fair',
      times: 3,
    });
    expect(roller.logs.filter((line) => line.message === 'Async roll completed')).toHaveLength(3);
    expect(roller.logs.at(-1)).toMatchObject({
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
    const response = await request(roller.app).get('/roll-async?die=fair&times=20');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ total: 120, rolls: Array(20).fill(6), count: 20 });
  });

  it('fails the batch when any roll fails: 500 die-failed with the failed rolls, counted from 0', async () => {
    // extreme fails below 0.5: rolls 1 and 3 fail, 0 and 2 land on 0.9 * 6 -> the sixth face.
    drawing(0.9, 0.9, 0.1, 0.9, 0.9, 0.1);
    const before = roller.logs.length;
    const response = await request(roller.app).get('/roll-async?die=extreme&times=4');
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
    const lines = roller.logs.slice(before);
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
    const before = roller.logs.length;
    const response = await request(roller.app).get(`/roll-async?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:invalid-parameter',
      status: 400,
      parameter: 'times',
      detail: expect.stringContaining("'times'"),
    });
    expect(roller.logs.slice(before).map((line) => line.message)).not.toContain(
      'Querying die service for specification',
    );
  });

  it('says what times must be', async () => {
    const response = await request(roller.app).get('/roll-async?die=fair&times=21');
    expect(response.body.detail).toBe("'times' must be an integer from 1 to 20");
  });

  it('checks the die as /roll does', async () => {
    const response = await request(roller.app).get('/roll-async?die=%3Cscript%3E&times=2');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ parameter: 'die' });
  });

  it('passes on an unknown die as 404 with the available dice', async () => {
    const response = await request(roller.app).get('/roll-async?die=loaded&times=2');
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
    const response = await request(roller.app).post('/roll-async?die=fair&times=2');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });
});
