import { TraceFlags } from '@opentelemetry/api';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { currentServerTiming, ServerTiming, serverTiming, traceResponseHeader } from '../src/service-kit/server-timing';
import {
  formatServerTiming,
  MAX_RELAYED_ENTRIES,
  parseServerTiming,
  relayableEntries,
  serverTimingHeader,
} from '../src/service-kit/server-timing-header';

const CHAIN =
  'frontend;dur=58.3;desc="frontend total", frontend.wait;dur=56.9;desc="frontend waiting on dice-roller", ' +
  'dice-roller;dur=55.1;desc="dice-roller total", dice-roller.wait;dur=1.9;desc="dice-roller waiting on die-service", ' +
  'die-service;dur=0.41;desc="die-service total"';

describe('parseServerTiming', () => {
  it('reads the entries of the chain, in order', () => {
    expect(parseServerTiming(CHAIN)).toEqual([
      { name: 'frontend', duration: 58.3, description: 'frontend total' },
      { name: 'frontend.wait', duration: 56.9, description: 'frontend waiting on dice-roller' },
      { name: 'dice-roller', duration: 55.1, description: 'dice-roller total' },
      { name: 'dice-roller.wait', duration: 1.9, description: 'dice-roller waiting on die-service' },
      { name: 'die-service', duration: 0.41, description: 'die-service total' },
    ]);
  });

  it('accepts the whole grammar: bare names, token values, spaces, any parameter case', () => {
    expect(
      parseServerTiming('miss, db ; DUR = 53 ;Desc=Database ,\tapp;dur=47.2,cache;desc="Cache Read";dur=23.2'),
    ).toEqual([
      { name: 'miss' },
      { name: 'db', duration: 53, description: 'Database' },
      { name: 'app', duration: 47.2 },
      { name: 'cache', duration: 23.2, description: 'Cache Read' },
    ]);
  });

  it('unescapes quoted strings, which may hold commas and semicolons', () => {
    expect(parseServerTiming('a;desc="say \\"hi\\", then; go \\\\ on";dur=1, b;dur=2')).toEqual([
      { name: 'a', duration: 1, description: 'say "hi", then; go \\ on' },
      { name: 'b', duration: 2 },
    ]);
  });

  it('keeps the first dur and desc of an entry and ignores unknown parameters', () => {
    expect(parseServerTiming('a;dur=1;dur=2;desc=x;desc=y;start=5;flag')).toEqual([
      { name: 'a', duration: 1, description: 'x' },
    ]);
  });

  it('leaves out a dur that is not a number, and skips entries without a name', () => {
    expect(parseServerTiming('a;dur=fast, ;dur=3, ,"quoted";dur=4, b;dur=;desc=""')).toEqual([
      { name: 'a' },
      { name: 'b', description: '' },
    ]);
  });

  it('reads repeated headers as one list, and nothing from no header', () => {
    expect(parseServerTiming(['a;dur=1', 'b;dur=2'])).toEqual([
      { name: 'a', duration: 1 },
      { name: 'b', duration: 2 },
    ]);
    expect(parseServerTiming(undefined)).toEqual([]);
    expect(parseServerTiming('')).toEqual([]);
  });
});

describe('formatServerTiming', () => {
  it('writes what parseServerTiming reads', () => {
    expect(formatServerTiming(parseServerTiming(CHAIN))).toBe(CHAIN);
  });

  it('rounds durations to two decimals, quotes descriptions and drops names that are not tokens', () => {
    expect(
      formatServerTiming([
        { name: 'a', duration: 1.23456 },
        { name: 'b', description: 'say "hi" \\o/' },
        { name: 'not a token', duration: 1 },
        { name: 'c', duration: Number.NaN },
      ]),
    ).toBe('a;dur=1.23, b;desc="say \\"hi\\" \\\\o/", c');
  });
});

describe('relayableEntries', () => {
  it("drops entries posing as the relaying service's own, and negative durations", () => {
    const own = new Set(['frontend', 'frontend.wait']);
    expect(relayableEntries('frontend;dur=1, dice-roller;dur=2, frontend.wait;dur=3, x;dur=-4', own)).toEqual([
      { name: 'dice-roller', duration: 2 },
      { name: 'x' },
    ]);
  });

  it('keeps descriptions printable and short, and relays a bounded number of entries', () => {
    const [entry] = relayableEntries(`a;desc="${'é\u0007x'.repeat(200)}"`, new Set());
    expect(entry?.description).toMatch(/^x{100}$/);
    const many = Array.from({ length: 100 }, (_, i) => `m${i};dur=${i}`).join(', ');
    expect(relayableEntries(many, new Set())).toHaveLength(MAX_RELAYED_ENTRIES);
  });
});

describe('serverTimingHeader', () => {
  it('reads the header from a header record, joining repeated ones', () => {
    expect(serverTimingHeader({ 'server-timing': 'a;dur=1' })).toBe('a;dur=1');
    expect(serverTimingHeader({ 'server-timing': ['a;dur=1', 'b;dur=2'] })).toBe('a;dur=1, b;dur=2');
    expect(serverTimingHeader({})).toBeUndefined();
  });
});

describe('ServerTiming', () => {
  it("puts the service's total first, then its waits and the upstream's entries", () => {
    const timing = new ServerTiming('dice-roller');
    timing.recordUpstream('die-service', 2.5, 'die-service;dur=0.4;desc="die-service total", dice-roller;dur=999');
    expect(parseServerTiming(timing.headerValue())).toEqual([
      { name: 'dice-roller', duration: expect.any(Number), description: 'dice-roller total' },
      { name: 'dice-roller.wait', duration: 2.5, description: 'dice-roller waiting on die-service' },
      { name: 'die-service', duration: 0.4, description: 'die-service total' },
    ]);
  });

  it('records a wait without entries when the upstream did not answer', () => {
    const timing = new ServerTiming('frontend');
    timing.recordUpstream('dice-roller', 300);
    expect(parseServerTiming(timing.headerValue()).map((entry) => entry.name)).toEqual(['frontend', 'frontend.wait']);
  });
});

describe('traceResponseHeader', () => {
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const spanId = 'b7ad6b7169203331';

  it('names the trace and the span, with the sampled flag', () => {
    expect(traceResponseHeader({ traceId, spanId, traceFlags: TraceFlags.SAMPLED })).toBe(`00-${traceId}-${spanId}-01`);
    expect(traceResponseHeader({ traceId, spanId, traceFlags: TraceFlags.NONE })).toBe(`00-${traceId}-${spanId}-00`);
  });

  it('is absent without a valid span', () => {
    expect(traceResponseHeader(undefined)).toBeUndefined();
    expect(
      traceResponseHeader({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: TraceFlags.NONE }),
    ).toBeUndefined();
  });
});

describe('the serverTiming middleware', () => {
  const app = express();
  app.use(serverTiming('svc'));
  app.get('/json', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/slow', async (_req, res) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    res.send('done');
  });
  app.get('/end', (_req, res) => {
    res.statusCode = 204;
    res.end();
  });
  app.get('/upstream', async (_req, res) => {
    // As the upstream client records a call: after an await, with no `res` at hand.
    await new Promise((resolve) => setImmediate(resolve));
    currentServerTiming()?.recordUpstream('up', 12.5, 'up;dur=10;desc="up total"');
    res.status(500).json({ failed: true });
  });
  app.get('/error', () => {
    throw new Error('boom');
  });
  app.use(((_error, _req, res, _next) => {
    res.status(500).send('failed');
  }) as express.ErrorRequestHandler);

  const entries = (response: request.Response) => parseServerTiming(response.headers['server-timing']);

  it.each(['/json', '/end', '/error', '/nowhere'])('adds the service total to the response of %s', async (path) => {
    const response = await request(app).get(path);
    expect(entries(response)).toEqual([{ name: 'svc', duration: expect.any(Number), description: 'svc total' }]);
  });

  it("measures the handler's time", async () => {
    const [total] = entries(await request(app).get('/slow'));
    expect(total?.duration).toBeGreaterThanOrEqual(25);
  });

  it('adds the waits and relayed entries a handler recorded', async () => {
    const response = await request(app).get('/upstream');
    expect(response.status).toBe(500);
    expect(entries(response).map((entry) => entry.name)).toEqual(['svc', 'svc.wait', 'up']);
  });

  it('adds no traceresponse when there is no span (no SDK in these tests)', async () => {
    const response = await request(app).get('/json');
    expect(response.headers.traceresponse).toBeUndefined();
  });
});
