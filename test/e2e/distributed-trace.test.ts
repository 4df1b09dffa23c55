import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceivedSpan } from '../support/otlp-receiver';
import { startTracedChain } from '../support/service-process';

let chain: Awaited<ReturnType<typeof startTracedChain>>;

beforeAll(async () => {
  chain = await startTracedChain({ ROLL_DELAY_MAX_MS: '50' });
});

afterAll(async () => {
  await chain?.stop();
});

async function roll(die: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${chain.frontend.url}/roll?die=${die}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function only(spans: ReceivedSpan[], service: string, kind: ReceivedSpan['kind']): ReceivedSpan {
  const matching = spans.filter((span) => span.service === service && span.kind === kind);
  expect(matching, `${kind} spans of ${service}`).toHaveLength(1);
  return matching[0] as ReceivedSpan;
}

/** Server and client spans of one roll: frontend -> dice-roller -> die-service. */
const SPANS_PER_ROLL = 5;

describe('one roll through the frontend', () => {
  it('is one trace with a server span in each service and a client span per call, correctly parented', async () => {
    const { status, body } = await roll('fair');
    expect(status).toBe(200);
    expect(body.trace_id).toMatch(/^[0-9a-f]{32}$/);

    const spans = await chain.receiver.waitForTrace(String(body.trace_id), SPANS_PER_ROLL);
    const frontendServer = only(spans, 'frontend', 'server');
    const frontendClient = only(spans, 'frontend', 'client');
    const rollerServer = only(spans, 'dice-roller', 'server');
    const rollerClient = only(spans, 'dice-roller', 'client');
    const dieServer = only(spans, 'die-service', 'server');

    expect(frontendServer.parentSpanId).toBeUndefined();
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    // Walk up from each span to its nearest ancestor of a different kind/service.
    const serverAncestor = (span: ReceivedSpan): ReceivedSpan | undefined => {
      let current = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      while (current !== undefined && current.kind === 'internal') {
        current = current.parentSpanId === undefined ? undefined : byId.get(current.parentSpanId);
      }
      return current;
    };
    expect(serverAncestor(frontendClient)?.spanId).toBe(frontendServer.spanId);
    expect(rollerServer.parentSpanId).toBe(frontendClient.spanId);
    expect(serverAncestor(rollerClient)?.spanId).toBe(rollerServer.spanId);
    expect(dieServer.parentSpanId).toBe(rollerClient.spanId);

    expect(frontendServer.attributes).toMatchObject({
      'die.type': 'fair',
      'backend.status_code': 200,
      'roll.value': body.roll,
    });
    expect(rollerServer.attributes).toMatchObject({
      'die.type': 'fair',
      'die.faces': [1, 2, 3, 4, 5, 6],
      'die.error_rate': 0,
      'die.result': body.roll,
      'die.error': false,
    });
    expect(dieServer.attributes).toMatchObject({ 'request.type': 'get', 'die.identifier': 'fair', 'die.found': true });
    expect(frontendServer.attributes['http.route']).toBe('/roll');
    expect(dieServer.attributes['http.route']).toBe('/dice');
    // Named after the route, never the raw URL, and no span inside a server span but the client call.
    expect([frontendServer.name, rollerServer.name, dieServer.name]).toEqual(['GET /roll', 'GET /roll', 'GET /dice']);
    expect(spans.filter((span) => span.kind === 'internal')).toEqual([]);
    for (const span of [frontendServer, rollerServer, dieServer]) {
      expect(span.resource).toMatchObject({
        'service.version': '1.0.0',
        'telemetry.sdk.language': 'nodejs',
        'telemetry.sdk.name': 'opentelemetry',
      });
      expect(span.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('marks a failed roll ERROR on the spans and returns 500 with the trace id', async () => {
    let failure: { status: number; body: Record<string, unknown> } | undefined;
    for (let attempt = 0; attempt < 50 && failure === undefined; attempt++) {
      const result = await roll('extreme');
      if (result.status !== 200) failure = result;
    }
    expect(failure?.status).toBe(500);
    expect(failure?.body).toMatchObject({
      type: 'urn:dice-roller:problem:die-failed',
      detail: "Die 'extreme' failed!",
    });
    const spans = await chain.receiver.waitForTrace(String(failure?.body.trace_id), SPANS_PER_ROLL);
    const rollerServer = only(spans, 'dice-roller', 'server');
    expect(rollerServer.status.code).toBe('error');
    expect(rollerServer.attributes).toMatchObject({ 'die.type': 'extreme', 'die.error': true });
    expect(only(spans, 'frontend', 'server').status.code).toBe('error');
  });
});
