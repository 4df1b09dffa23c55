import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogLine, type ServiceProcess, startTracedChain } from '../support/service-process';

let chain: Awaited<ReturnType<typeof startTracedChain>>;

beforeAll(async () => {
  chain = await startTracedChain({ ROLL_DELAY_MAX_MS: '0' });
});

afterAll(async () => {
  await chain?.stop();
});

async function roll(die: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${chain.frontend.url}/roll?die=${encodeURIComponent(die)}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function metricsText(service: ServiceProcess): Promise<string> {
  return (await fetch(`${service.url}/metrics`)).text();
}

/** Every distinct value of `label` on the series of `metric` in a classic exposition. */
function labelValues(text: string, metric: string, label: string): Set<string> {
  const values = new Set<string>();
  const pattern = new RegExp(`^${metric}\\{[^}]*\\b${label}="([^"]*)"`, 'gm');
  for (const match of text.matchAll(pattern)) values.add(match[1] as string);
  return values;
}

describe('logs', () => {
  it('carry the same trace_id in every service for one roll, in the contract shape', async () => {
    const { body } = await roll('fair');
    const traceId = String(body.trace_id);
    const inTrace = (line: LogLine) => line.trace_id === traceId;
    const [frontendLine, rollerLine, dieLine] = await Promise.all([
      chain.frontend.waitForLog((line) => inTrace(line) && line.message === 'Roll succeeded'),
      chain.diceRoller.waitForLog((line) => inTrace(line) && line.message === 'Die rolled'),
      chain.dieService.waitForLog((line) => inTrace(line) && line.message === 'Die specification requested'),
    ]);
    expect(frontendLine).toMatchObject({ service: 'frontend', level: 'INFO', die_type: 'fair', roll_value: body.roll });
    expect(rollerLine).toMatchObject({
      service: 'dice-roller',
      level: 'INFO',
      die_type: 'fair',
      roll_value: body.roll,
    });
    expect(dieLine).toMatchObject({ service: 'die-service', level: 'INFO', identifier: 'fair', found: true });
    for (const line of [frontendLine, rollerLine, dieLine]) {
      expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
    }
    // dice-roller logs the upstream call and its outcome inside the same trace.
    expect(chain.diceRoller.logs.filter(inTrace).map((line) => line.message)).toEqual([
      'Querying die service for specification',
      'Die specification retrieved from service',
      'Die rolled',
    ]);
  });

  it('log a failed roll at ERROR in dice-roller with its trace id', async () => {
    let failure: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 60 && failure === undefined; attempt++) {
      const result = await roll('extreme');
      if (result.status === 500) failure = result.body;
    }
    expect(failure).toBeDefined();
    const line = await chain.diceRoller.waitForLog(
      (entry) => entry.trace_id === failure?.trace_id && entry.level === 'ERROR',
    );
    expect(line).toMatchObject({ message: "Die 'extreme' failed!", die_type: 'extreme' });
  });

  it('log start-up, with the number of specifications die-service loaded', () => {
    expect(chain.dieService.logs.find((line) => line.message === 'Die specifications loaded')).toMatchObject({
      count: 3,
    });
    for (const service of chain.all) expect(service.logs.some((line) => line.message === 'Service started')).toBe(true);
  });
});

describe('metrics after rolls', () => {
  it("expose each service's contract series with the contract's labels", async () => {
    // Dice fail at random: roll until every die has landed once and extreme has failed once.
    const awaited = new Set(['fair 200', 'risky 200', 'extreme 200', 'extreme 500']);
    for (let round = 0; round < 200 && awaited.size > 0; round++) {
      for (const die of ['fair', 'risky', 'extreme']) awaited.delete(`${die} ${(await roll(die)).status}`);
    }
    expect([...awaited]).toEqual([]);
    const [dieText, rollerText, frontendText] = await Promise.all(chain.all.map(metricsText));

    for (const text of [dieText, rollerText, frontendText]) {
      expect(text).toMatch(/^http_requests_total\{method="GET",handler="\/(dice|roll)",status="2xx"\} \d+/m);
      expect(text).toMatch(
        /^http_request_duration_seconds_bucket\{le="\+Inf",method="GET",handler="\/(dice|roll)",status="2xx"\}/m,
      );
      expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    }
    expect(labelValues(dieText, 'die_specifications_requested_total', 'identifier')).toEqual(
      new Set(['fair', 'risky', 'extreme']),
    );
    expect(dieText).toMatch(/^die_specifications_loaded 3$/m);
    expect(labelValues(rollerText, 'dice_rolls_total', 'result')).toEqual(new Set(['success', 'error']));
    expect(labelValues(rollerText, 'dice_roll_value_bucket', 'die_type')).toEqual(
      new Set(['fair', 'risky', 'extreme']),
    );
    expect(labelValues(rollerText, 'die_service_requests_total', 'status')).toEqual(new Set(['success']));
    expect(rollerText).toMatch(/^die_service_request_duration_seconds_count \d+/m);
    expect(labelValues(frontendText, 'frontend_requests_total', 'status')).toEqual(
      new Set(['received', 'success', 'error']),
    );
    expect(labelValues(frontendText, 'backend_requests_total', 'status_code')).toEqual(new Set(['200', '500']));
    expect(labelValues(frontendText, 'backend_request_duration_seconds_count', 'die_type')).toEqual(
      new Set(['fair', 'risky', 'extreme']),
    );
  });

  it('carry trace ids as exemplars in OpenMetrics', async () => {
    await roll('fair');
    const response = await fetch(`${chain.frontend.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0' },
    });
    const text = await response.text();
    expect(text).toMatch(
      /^backend_request_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}"\} [\d.e-]+ [\d.]+$/m,
    );
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{[^}]*\} \d+ # \{trace_id="[0-9a-f]{32}"\}/m);
  });

  it('gain no new label values from a thousand requests with made-up die names', async () => {
    await roll('fair');
    const before = await Promise.all(chain.all.map(metricsText));
    const labelled: [number, string, string][] = [
      [0, 'die_specifications_requested_total', 'identifier'],
      [1, 'dice_rolls_total', 'die_type'],
      [1, 'die_service_requests_total', 'identifier'],
      [1, 'die_service_requests_total', 'status'],
      [2, 'frontend_requests_total', 'die_type'],
      [2, 'backend_requests_total', 'die_type'],
      [2, 'backend_requests_total', 'status_code'],
      [2, 'http_requests_total', 'handler'],
    ];
    // Two made-up names seen before (counted as "unknown") make that value exist already.
    await roll('warm-up-unknown');
    const warm = await Promise.all(chain.all.map(metricsText));

    const names = Array.from({ length: 1000 }, (_, i) => `made-up-${i}-${Math.random().toString(36).slice(2, 8)}`);
    for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((name) => roll(name)));
    const after = await Promise.all(chain.all.map(metricsText));

    for (const [index, metric, label] of labelled) {
      const afterValues = labelValues(after[index] as string, metric, label);
      expect(afterValues, `${metric}{${label}}`).toEqual(labelValues(warm[index] as string, metric, label));
      for (const value of afterValues) expect(value).not.toMatch(/made-up|warm-up/);
    }
    expect(before.join('')).not.toContain('made-up');
    expect(after.join('')).not.toContain('made-up');
  });
});
