import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unreachableUrl } from '../support/free-url';
import { type Listening, listenSilently } from '../support/in-process';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { REPO_ROOT, type ServiceProcess, startChain, startNodeProcess, startService } from '../support/service-process';

/**
 * A failed span must say why: status ERROR with a message, and `error.type` as
 * the semantic conventions define it (a server span's: the problem type, or the
 * exception's type; a client span's: the status code it received, or `timeout`,
 * or the connection error). Asserted on the spans the services export.
 */

const receiver = new OtlpReceiver();
let endpoint: string;
const started: ServiceProcess[] = [];
const upstreams: Listening[] = [];

beforeAll(async () => {
  endpoint = await receiver.start();
});

afterAll(async () => {
  await Promise.all(started.map((service) => service.stop()));
  await Promise.all(upstreams.map((upstream) => upstream.close()));
  await receiver.stop();
});

/** A frontend and a dice-roller whose die-service is at `dieServiceUrl`. */
async function frontendAndRoller(dieServiceUrl: string): Promise<{ frontend: ServiceProcess }> {
  const env = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    DIE_SERVICE_URL: dieServiceUrl,
    DIE_SERVICE_TIMEOUT_MS: '300',
    ROLL_DELAY_MAX_MS: '0',
  };
  const diceRoller = await startService('dice-roller', { env });
  const frontend = await startService('frontend', { env: { ...env, DICE_ROLLER_URL: diceRoller.url } });
  started.push(diceRoller, frontend);
  return { frontend };
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; traceId: string }> {
  const response = await fetch(url);
  const body = (await response.json()) as Record<string, unknown>;
  const traceId = String(response.headers.get('traceresponse')).split('-')[1] ?? '';
  return { status: response.status, body, traceId };
}

function only(spans: ReceivedSpan[], service: string, kind: ReceivedSpan['kind']): ReceivedSpan {
  const matching = spans.filter((span) => span.service === service && span.kind === kind);
  expect(matching, `${kind} spans of ${service}`).toHaveLength(1);
  return matching[0] as ReceivedSpan;
}

function expectFailed(span: ReceivedSpan, message: string | RegExp, errorType: string): void {
  const label = `${span.service} ${span.kind} span ${span.name}`;
  expect(span.status.code, label).toBe('error');
  if (typeof message === 'string') expect(span.status.message, label).toBe(message);
  else expect(span.status.message, label).toMatch(message);
  expect(span.attributes['error.type'], label).toBe(errorType);
}

describe('failed spans', () => {
  it('a die failure: both server spans say the die failed; the client span the status it got', async () => {
    const chain = await startChain({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ROLL_DELAY_MAX_MS: '0' });
    started.push(...chain.all);
    let failure: Awaited<ReturnType<typeof get>> | undefined;
    for (let attempt = 0; attempt < 60 && failure === undefined; attempt++) {
      const result = await get(`${chain.frontend.url}/roll?die=extreme`);
      if (result.status === 500) failure = result;
    }
    expect(failure?.body).toMatchObject({ type: 'urn:dice-roller:problem:die-failed' });
    const spans = await receiver.waitForTrace(String(failure?.body.trace_id), 5);

    const dieFailed = 'urn:dice-roller:problem:die-failed';
    expectFailed(only(spans, 'dice-roller', 'server'), "Die 'extreme' failed!", dieFailed);
    expectFailed(only(spans, 'frontend', 'server'), "Die 'extreme' failed!", dieFailed);
    // The semantic conventions: a client span whose reason is its status code has that code as
    // error.type; its message (which they let it leave out) is the code and its reason phrase.
    const call = only(spans, 'frontend', 'client');
    expectFailed(call, '500 Internal Server Error', '500');
    expect(call.attributes['http.response.status_code']).toBe(500);
    expect(only(spans, 'die-service', 'server').status.code).toBe('unset');
  });

  it('an upstream timeout: the client span timed out, the server spans answered 504 saying so', async () => {
    const silent = await listenSilently();
    upstreams.push(silent);
    const { frontend } = await frontendAndRoller(silent.url);
    const { status, body } = await get(`${frontend.url}/roll?die=fair`);
    expect(status).toBe(504);
    const spans = await receiver.waitForTrace(String(body.trace_id), 4);

    expectFailed(only(spans, 'dice-roller', 'client'), 'die-service did not answer within 300 ms', 'timeout');
    const timedOut = 'urn:dice-roller:problem:upstream-timeout';
    expectFailed(only(spans, 'dice-roller', 'server'), 'die-service did not answer in time', timedOut);
    expectFailed(only(spans, 'frontend', 'server'), 'die-service did not answer in time', timedOut);
    expectFailed(only(spans, 'frontend', 'client'), '504 Gateway Timeout', '504');
  });

  it('an unreachable upstream: the client span names the connection error, the server spans answered 503', async () => {
    const { frontend } = await frontendAndRoller(await unreachableUrl());
    const { status, body } = await get(`${frontend.url}/roll?die=fair`);
    expect(status).toBe(503);
    const spans = await receiver.waitForTrace(String(body.trace_id), 4);

    expectFailed(only(spans, 'dice-roller', 'client'), /ECONNREFUSED/, 'ECONNREFUSED');
    const unavailable = 'urn:dice-roller:problem:upstream-unavailable';
    expectFailed(only(spans, 'dice-roller', 'server'), 'die-service is unavailable', unavailable);
    expectFailed(only(spans, 'frontend', 'server'), 'die-service is unavailable', unavailable);
  });

  it('an unhandled error: the server span carries its message, its type and the exception with its stack', async () => {
    // No route of the three services fails unexpectedly on purpose, so a service of
    // the same kit, loaded with the same bootstrap, whose one route has a bug.
    const script = `
      const { createServiceApp, logger, runServer } = require('@dice-roller/telemetry');
      const app = createServiceApp({
        info: { name: 'buggy-service', version: '1.0.0', description: 'a route with a bug', endpoints: [] },
        logger,
        serverTimingName: 'buggy-service',
        readiness: async () => ({ ready: true }),
        routes: { '/bug': () => { throw new TypeError('the dice fell off the table'); } },
      });
      runServer(app, { port: Number(process.env.PORT), logger });`;
    const buggy = await startNodeProcess(
      'buggy-service',
      ['--require', '@dice-roller/telemetry/register', '-e', script],
      REPO_ROOT,
      {
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'buggy-service' },
      },
    );
    started.push(buggy);
    const { status, body, traceId } = await get(`${buggy.url}/bug`);
    expect(status).toBe(500);
    expect(body).toMatchObject({ type: 'urn:dice-roller:problem:internal-error', trace_id: traceId });
    expect(JSON.stringify(body)).not.toContain('fell off');
    const [server] = await receiver.waitForTrace(traceId, 1);

    expectFailed(server as ReceivedSpan, 'the dice fell off the table', 'TypeError');
    const exception = server?.events.find((event) => event.name === 'exception');
    expect(exception?.attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'the dice fell off the table',
      'exception.stacktrace': expect.stringContaining('TypeError: the dice fell off the table\n    at '),
    });
  });
});
