import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Chain, type ServiceProcess, startChain } from '../support/service-process';

/** Dice that never fail, so any 5xx below is a defect, not a failed roll. */
const SPECS = { fair: { faces: [1, 2, 3, 4, 5, 6], error_rate: 0 }, steady: { faces: [3], error_rate: 0 } };
const FORGED_MESSAGE = 'forged-log-line';

let chain: Chain;

beforeAll(async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'hostile-')), 'dice.json');
  writeFileSync(file, JSON.stringify(SPECS));
  chain = await startChain({ ROLL_DELAY_MAX_MS: '0' }, { 'die-service': { DIE_SPECS_FILE: file } });
});

afterAll(async () => {
  await chain?.stop();
});

const ENDPOINTS: Record<string, string[]> = {
  'die-service': ['/', '/dice', '/info', '/health', '/ready', '/metrics', '/metrics/otel'],
  'dice-roller': ['/', '/roll', '/roll-async', '/info', '/health', '/ready', '/metrics', '/metrics/otel'],
  frontend: [
    '/',
    '/roll',
    '/roll-async',
    '/dice',
    '/ui-config',
    '/info',
    '/health',
    '/ready',
    '/metrics',
    '/assets/app.js',
  ],
};

const controlCharacters = fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((code) => String.fromCharCode(code)) });
const hostileValue = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  controlCharacters,
  fc.constantFrom(
    '',
    'fair',
    'steady',
    '__proto__',
    'constructor',
    'prototype',
    'hasOwnProperty',
    '../../../../etc/passwd',
    '..%2F..%2Fpackage.json',
    `fair\n{"level":"ERROR","message":"${FORGED_MESSAGE}"}`,
    `{"message":"${FORGED_MESSAGE}"}`,
    '<script>alert(1)</script>',
    'x'.repeat(20 * 1024),
  ),
);
const hostileKey = fc.oneof(
  fc.constantFrom('die', 'identifier', 'die[]', 'identifier[]', 'die[0]', '__proto__', 'constructor', 'die.x', ''),
  fc.constantFrom('times', 'times[]', 'times[0]'),
  fc.string({ maxLength: 20 }),
);
const hostileQuery = fc
  .array(fc.tuple(hostileKey, hostileValue), { maxLength: 4 })
  .map((pairs) => pairs.map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`).join('&'));
const rawQuery = fc.constantFrom('die=%ZZ', 'identifier=%', 'die=%00', '%E0%A4%A=1', 'die=fair&&&&', '&=&=', 'die');
const hostilePath = (service: string) =>
  fc.oneof(
    fc.constantFrom(...(ENDPOINTS[service] as string[])),
    fc.constantFrom(
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/%2e%2e/etc/passwd',
      '/dice/..',
      '/roll/',
      '//roll',
      '/ROLL',
      '/assets/',
      '/%ZZ',
    ),
    fc.string({ maxLength: 30 }).map((segment) => `/${encodeURIComponent(segment)}`),
  );
const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS');

interface Answer {
  status: number;
  contentType: string;
  allow: string | null;
  headers: Headers;
  body: string;
}

async function send(base: string, verb: string, target: string): Promise<Answer> {
  const response = await fetch(`${base}${target}`, {
    method: verb,
    // A request must never hang: the bound is far above any legitimate answer here.
    signal: AbortSignal.timeout(10_000),
    ...(verb === 'POST' || verb === 'PUT' || verb === 'PATCH' ? { body: 'x'.repeat(1024) } : {}),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    allow: response.headers.get('allow'),
    headers: response.headers,
    body: await response.text(),
  };
}

function expectSafeAnswer(answer: Answer, verb: string, target: string): void {
  const context = `${verb} ${target.slice(0, 200)} -> ${answer.status} ${answer.body.slice(0, 300)}`;
  expect(answer.status, context).toBeLessThan(500);
  if (answer.status >= 400 && verb !== 'HEAD') {
    expect(answer.body, context).not.toMatch(/\bat [\w.<>]+ \(|node:internal|\/work\/|\/node_modules\/|127\.0\.0\.1/);
    expect(answer.contentType, context).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(answer.body) as Record<string, unknown>;
    expect(problem, context).toMatchObject({
      type: expect.stringMatching(/^urn:dice-roller:problem:/),
      status: answer.status,
    });
    expect(typeof problem.title).toBe('string');
    expect(typeof problem.detail).toBe('string');
  }
  if (answer.status === 405) expect(answer.allow, context).toBe('GET, HEAD');
  // Security headers on every answer, errors included.
  expect(answer.headers.get('x-content-type-options'), context).toBe('nosniff');
  expect(answer.headers.get('x-powered-by'), context).toBeNull();
  expect(answer.headers.get('content-security-policy'), context).toMatch(/default-src '(self|none)'/);
}

function serviceByName(name: string): ServiceProcess {
  return chain.all.find((service) => service.name === name) as ServiceProcess;
}

describe.each(Object.keys(ENDPOINTS))('hostile input to %s', (name) => {
  it('always gets a problem+json 4xx (or a 2xx), never a 5xx, a hang, a stack trace or a crash', async () => {
    const service = serviceByName(name);
    await fc.assert(
      fc.asyncProperty(method, hostilePath(name), fc.oneof(hostileQuery, rawQuery), async (verb, target, query) => {
        const url = query === '' ? target : `${target}?${query}`;
        expectSafeAnswer(await send(service.url, verb, url), verb, url);
      }),
      { numRuns: 150 },
    );
    expect(service.stdoutLines.length).toBeGreaterThan(0);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
  });
});

/** Anything a client might send as `times`: numbers in every notation, near misses, junk. */
const hostileTimes = fc.oneof(
  fc.integer({ min: -30, max: 50 }).map(String),
  fc.double().map(String),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: fc.constantFrom('0', '1', '2', '5', ' ', '+', '-', '.', 'e', 'x', '\t'), maxLength: 4 }),
  fc.constantFrom(
    '1e1',
    ' 5',
    '5 ',
    '05',
    '0x5',
    '2.0',
    '1_0',
    'Infinity',
    'NaN',
    '１０',
    '20',
    '21',
    '',
    '1'.repeat(400),
  ),
);

describe('hostile batch sizes (times) on /roll-async', () => {
  it.each(['dice-roller', 'frontend'])(
    '%s rolls exactly the sizes 1 to 20, written plainly, and answers 400 naming times to anything else',
    async (name) => {
      const service = serviceByName(name);
      await fc.assert(
        fc.asyncProperty(hostileTimes, async (times) => {
          const target = `/roll-async?die=steady&times=${encodeURIComponent(times)}`;
          const answer = await send(service.url, 'GET', target);
          expectSafeAnswer(answer, 'GET', target);
          if (/^([1-9]|1\d|20)$/.test(times)) {
            expect(answer.status, target).toBe(200);
            const count = Number(times);
            expect(JSON.parse(answer.body)).toMatchObject({ total: 3 * count, rolls: Array(count).fill(3), count });
          } else {
            expect(answer.status, target).toBe(400);
            expect(JSON.parse(answer.body)).toMatchObject({ parameter: 'times' });
          }
        }),
        { numRuns: 150 },
      );
    },
  );
});

describe('after the barrage', () => {
  it('every process is alive and every log line is one well-formed JSON object that no input forged', async () => {
    for (const service of chain.all) {
      expect((await fetch(`${service.url}/health`)).status).toBe(200);
      for (const line of service.stdoutLines) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        expect(parsed.service).toBe(service.name);
        expect(parsed.message).not.toBe(FORGED_MESSAGE);
      }
    }
  });

  it('no request added a metric label value', async () => {
    const texts = await Promise.all(chain.all.map(async (service) => (await fetch(`${service.url}/metrics`)).text()));
    const values = new Set<string>();
    for (const text of texts) {
      for (const match of text.matchAll(/(?:identifier|die_type|handler)="([^"]*)"/g)) values.add(match[1] as string);
      // Batch sizes only ever 1 to 20, whatever `times` the barrage sent.
      for (const match of text.matchAll(/batch_size="([^"]*)"/g)) expect(match[1]).toMatch(/^([1-9]|1\d|20)$/);
    }
    const allowed = new Set([
      'fair',
      'steady',
      'unknown',
      'unmatched',
      '/',
      '/dice',
      '/roll',
      '/roll-async',
      '/info',
      '/ui-config',
      '/assets',
    ]);
    expect([...values].filter((value) => !allowed.has(value))).toEqual([]);
  });
});

describe('requests Express never sees', () => {
  it('a 20 KB parameter gets a 431 problem, not a bare status line', async () => {
    for (const service of chain.all) {
      const answer = await send(service.url, 'GET', `/roll?die=${'x'.repeat(20 * 1024)}`);
      expect(answer.status).toBe(431);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(answer.body)).toMatchObject({ type: 'urn:dice-roller:problem:bad-request', status: 431 });
    }
  });

  it('a malformed request line gets a 400 problem and the connection is closed', async () => {
    const { connect } = await import('node:net');
    const socket = connect(chain.frontend.port, '127.0.0.1');
    socket.write('GET /roll?die=fair HTTP/1.1\r\nHost: x\r\nBroken Header\r\n\r\n');
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(raw).toContain('Content-Type: application/problem+json');
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toMatchObject({
      status: 400,
      type: 'urn:dice-roller:problem:bad-request',
    });
  });

  it('path traversal out of the static folder finds nothing', async () => {
    for (const target of [
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%5C..%5Cpackage.json',
    ]) {
      const answer = await send(chain.frontend.url, 'GET', target);
      expect(answer.status, target).toBe(404);
      expect(answer.body).not.toContain('"workspaces"');
    }
  });
});
