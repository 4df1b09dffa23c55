import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/support/capture-logger';
import { createApp } from '../src/app';
import { BUNDLED_SPECIFICATIONS_FILE, loadSpecificationsFile } from '../src/specifications-file';

const catalog = loadSpecificationsFile(BUNDLED_SPECIFICATIONS_FILE);
const { logger, lines } = captureLogger('die-service');
const app = createApp({ catalog, logger });

function expectProblem(response: request.Response, status: number, type: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ type, status, title: expect.any(String), detail: expect.any(String) });
  expect(JSON.stringify(response.body)).not.toMatch(/at .*\.(js|ts):\d+/);
}

describe('GET /dice', () => {
  it('lists the identifiers in file order', async () => {
    const response = await request(app).get('/dice');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ identifiers: ['fair', 'risky', 'extreme'] });
    expect(lines.at(-1)).toMatchObject({
      level: 'INFO',
      message: 'Die list requested',
      count: 3,
      service: 'die-service',
    });
  });

  it('returns one specification', async () => {
    const response = await request(app).get('/dice?identifier=fair');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ identifier: 'fair', specification: { faces: [1, 2, 3, 4, 5, 6], error_rate: 0 } });
  });

  it('ships the extreme die: mostly sixes, failing half the time', async () => {
    const response = await request(app).get('/dice?identifier=extreme');
    expect(response.body.specification).toEqual({ faces: [0, 0, 6, 6, 6, 6], error_rate: 0.5 });
  });

  it('answers an unknown die with 404 and the dice it does know', async () => {
    const response = await request(app).get('/dice?identifier=loaded');
    expectProblem(response, 404, 'urn:dice-roller:problem:unknown-die');
    expect(response.body.detail).toBe("Die 'loaded' not found");
    expect(response.body.available).toEqual(['fair', 'risky', 'extreme']);
  });

  it.each([
    ['empty', '?identifier='],
    ['repeated', '?identifier=fair&identifier=risky'],
    ['over 64 characters', `?identifier=${'a'.repeat(65)}`],
    ['a space', '?identifier=fa%20ir'],
    ['a slash', '?identifier=..%2Fetc'],
    ['a newline', '?identifier=fair%0A%7B%22level%22%3A%22ERROR%22%7D'],
    ['unicode', '?identifier=d%C3%A9'],
  ])('rejects an identifier that is %s with 400', async (_name, query) => {
    const response = await request(app).get(`/dice${query}`);
    expectProblem(response, 400, 'urn:dice-roller:problem:invalid-parameter');
    expect(response.body.parameter).toBe('identifier');
  });

  it('accepts an identifier of exactly 64 allowed characters (and does not know it)', async () => {
    const response = await request(app).get(`/dice?identifier=${'a_-Z9'.repeat(12)}abcd`);
    expect(response.status).toBe(404);
  });

  it('refuses other methods with 405 and Allow', async () => {
    const response = await request(app).post('/dice');
    expectProblem(response, 405, 'urn:dice-roller:problem:method-not-allowed');
    expect(response.headers.allow).toBe('GET, HEAD');
  });
});

describe('service endpoints', () => {
  it('describes itself at / and /info', async () => {
    for (const path of ['/', '/info']) {
      const response = await request(app).get(path);
      expect(response.status).toBe(200);
      // name and version come from the process's package (vitest here; see the e2e tests).
      expect(response.body).toMatchObject({
        name: expect.any(String),
        version: expect.any(String),
        endpoints: expect.arrayContaining(['GET /dice', 'GET /dice?identifier={die}']),
      });
    }
  });

  it('is alive and ready once its specifications are loaded', async () => {
    expect((await request(app).get('/health')).body).toEqual({ status: 'ok' });
    expect((await request(app).get('/ready')).body).toEqual({ status: 'ready' });
  });

  it('stops being ready once shutdown begins, while still alive', async () => {
    const draining = createApp({ catalog, logger });
    draining.locals.shuttingDown = true;
    const ready = await request(draining).get('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ type: 'urn:dice-roller:problem:not-ready', detail: 'shutting down' });
    expect((await request(draining).get('/health')).status).toBe(200);
  });

  it('answers an unknown path with a 404 problem', async () => {
    expectProblem(await request(app).get('/nope'), 404, 'urn:dice-roller:problem:not-found');
  });

  it('sends security headers and no X-Powered-By', async () => {
    const response = await request(app).get('/dice');
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(response.headers['cross-origin-resource-policy']).toBe('same-origin');
  });
});

describe('GET /metrics', () => {
  it('counts specification requests by known identifier, and everything else as unknown', async () => {
    await request(app).get('/dice?identifier=risky');
    await request(app).get('/dice?identifier=made-up-1');
    await request(app).get('/dice?identifier=made-up-2');
    const text = (await request(app).get('/metrics')).text;
    expect(text).toMatch(/^die_specifications_requested_total\{identifier="risky"\} [1-9]/m);
    expect(text).toMatch(/^die_specifications_requested_total\{identifier="unknown"\} [3-9]/m);
    expect(text).not.toContain('made-up');
    expect(text).toMatch(/^die_list_requests_total [1-9]/m);
    expect(text).toMatch(/^die_specifications_loaded 3$/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",handler="\/dice",status="2xx"\} [1-9]/m);
    expect(text).toMatch(/^http_requests_total\{method="GET",handler="\/dice",status="4xx"\} [1-9]/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="0.005",method="GET",handler="\/dice",status="2xx"\}/m,
    );
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
  });

  it('does not count its own operational endpoints in the RED metrics', async () => {
    await request(app).get('/health');
    const text = (await request(app).get('/metrics')).text;
    expect(text).not.toMatch(/handler="\/(health|ready|metrics)"/);
  });

  it('serves OpenMetrics when asked, and the classic format keeps `_total` afterwards', async () => {
    const prometheusAccept =
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    const openMetrics = await request(app).get('/metrics').set('Accept', prometheusAccept);
    expect(openMetrics.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1\.0\.0/);
    expect(openMetrics.text).toMatch(/^# TYPE http_requests counter$/m);
    expect(openMetrics.text).toMatch(/^http_requests_total\{/m);
    expect(openMetrics.text.trimEnd().endsWith('# EOF')).toBe(true);

    const classic = await request(app).get('/metrics').set('Accept', 'text/plain');
    expect(classic.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(classic.text).toMatch(/^# TYPE http_requests_total counter$/m);
    expect(classic.text).toMatch(/^http_requests_total\{/m);
    expect(classic.text).toMatch(/^die_list_requests_total /m);
    expect(classic.text).not.toContain('# EOF');

    const curl = await request(app).get('/metrics').set('Accept', '*/*');
    expect(curl.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('answers /metrics/otel even without the SDK running in-process', async () => {
    const response = await request(app).get('/metrics/otel');
    expect(response.status).toBe(200);
  });
});
