import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ServiceName,
  type ServiceProcess,
  startChain,
  startService,
  startTracedChain,
} from '../support/service-process';

const started: ServiceProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.stop()));
});

async function startExpectingFailure(
  name: ServiceName,
  env: Record<string, string>,
): Promise<{ code: number | null; error: string }> {
  const service = await startService(name, { env, waitUntilStarted: false });
  started.push(service);
  const status = await service.exited;
  const line = service.logs.find((entry) => entry.level === 'ERROR');
  return { code: status.code, error: line?.message ?? service.stdoutLines.join('\n') };
}

describe('configuration', () => {
  it.each([
    ['die-service', { PORT: 'eighty' }, 'PORT must be an integer from 0 to 65535 (got "eighty")'],
    ['dice-roller', { ROLL_DELAY_MAX_MS: '-5' }, 'ROLL_DELAY_MAX_MS must be an integer'],
    ['dice-roller', { DIE_SERVICE_URL: 'ftp://x' }, 'DIE_SERVICE_URL must be an http(s) URL'],
    [
      'frontend',
      { DICE_ROLLER_URL: 'http://user:secret@localhost:8104' },
      'DICE_ROLLER_URL must be an http(s) URL without credentials',
    ],
    ['frontend', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of debug, info, warning, error'],
    [
      'frontend',
      { DICE_ROLLER_TIMEOUT_MS: '2500' },
      'DICE_ROLLER_TIMEOUT_MS (2500) must exceed ROLL_DELAY_MAX_MS (1000) + DIE_SERVICE_TIMEOUT_MS (2000)',
    ],
  ] as [ServiceName, Record<string, string>, string][])(
    '%s refuses to start with %o, naming the variable',
    async (name, env, expected) => {
      const { code, error } = await startExpectingFailure(name, env);
      expect(code).toBe(1);
      expect(error).toContain(expected);
      expect(error).not.toMatch(/\n\s+at /);
    },
  );

  it('a service whose port is taken exits 1 with one clear line, no stack trace, instead of pretending it started', async () => {
    const holder = await startService('die-service');
    started.push(holder);
    const second = await startService('die-service', { port: holder.port, waitUntilStarted: false });
    started.push(second);
    expect((await second.exited).code).toBe(1);
    expect(second.logs.some((line) => line.message === 'Service started')).toBe(false);
    const errors = second.logs.filter((line) => line.level === 'ERROR');
    expect(errors.map((line) => line.message)).toEqual([
      `Configuration error: PORT ${holder.port} is already in use by another process`,
    ]);
    expect(errors[0]).not.toHaveProperty('error');
    expect(second.stdoutLines.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('die-service refuses a broken specifications file, naming the file, the die and the rule', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'specs-')), 'dice.json');
    writeFileSync(
      file,
      JSON.stringify({ fair: { faces: [1, 2, 3], error_rate: 0 }, cursed: { faces: [], error_rate: 0 } }),
    );
    const { code, error } = await startExpectingFailure('die-service', { DIE_SPECS_FILE: file });
    expect(code).toBe(1);
    expect(error).toBe(`Configuration error: ${file}: die 'cursed': "faces" must be a non-empty array of integers`);
  });

  it('die-service serves the dice of the file it is given, in its order', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'specs-')), 'dice.json');
    writeFileSync(
      file,
      JSON.stringify({
        d20: { faces: Array.from({ length: 20 }, (_, i) => i + 1), error_rate: 0 },
        coin: { faces: [0, 1], error_rate: 0 },
      }),
    );
    const service = await startService('die-service', { env: { DIE_SPECS_FILE: file } });
    started.push(service);
    expect(await (await fetch(`${service.url}/dice`)).json()).toEqual({ identifiers: ['d20', 'coin'] });
    expect(service.logs.find((line) => line.message === 'Die specifications loaded')).toMatchObject({ count: 2 });
  });

  it('each service names itself in /info', async () => {
    const chain = await startChain();
    started.push(...chain.all);
    for (const service of chain.all) {
      expect(await (await fetch(`${service.url}/info`)).json()).toMatchObject({ name: service.name, version: '1.0.0' });
    }
  });
});

describe('OpenTelemetry switched off or unreachable', () => {
  it('with OTEL_SDK_DISABLED=true the services work and export nothing', async () => {
    const chain = await startTracedChain({ OTEL_SDK_DISABLED: 'true', ROLL_DELAY_MAX_MS: '0' });
    try {
      const response = await fetch(`${chain.frontend.url}/roll?die=fair`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ roll: expect.any(Number) });
      expect(await (await fetch(`${chain.frontend.url}/metrics/otel`)).text()).toContain('OTEL_SDK_DISABLED');
      expect(await (await fetch(`${chain.frontend.url}/metrics`)).text()).toMatch(/^frontend_requests_total/m);
      await Promise.all(chain.all.map((service) => service.stop()));
      expect(chain.receiver.spans).toHaveLength(0);
    } finally {
      await chain.stop();
    }
  });

  it('with no collector, requests succeed and the log gets one warning, not one per batch', async () => {
    const chain = await startChain({ ROLL_DELAY_MAX_MS: '0' });
    started.push(...chain.all);
    for (let i = 0; i < 30; i++) expect((await fetch(`${chain.frontend.url}/roll?die=fair`)).status).toBe(200);
    const warning = await chain.frontend.waitForLog(
      (line) => line.level === 'WARNING' && line.component === 'opentelemetry-sdk',
    );
    expect(warning.message).toMatch(/^OpenTelemetry: .*ECONNREFUSED/);
    expect(warning.trace_id).toBeUndefined();
    for (let i = 0; i < 30; i++) await fetch(`${chain.frontend.url}/roll?die=fair`);
    await chain.frontend.stop();
    const warnings = chain.frontend.logs.filter((line) => line.component === 'opentelemetry-sdk');
    expect(warnings.length).toBeLessThanOrEqual(2);
  });
});

describe('graceful shutdown', () => {
  it('finishes in-flight requests, exports their spans, and exits 0 on SIGTERM', async () => {
    // A long batch delay: spans of the in-flight rolls reach the receiver only
    // because shutdown flushes them.
    const chain = await startTracedChain({ OTEL_BSP_SCHEDULE_DELAY: '60000', ROLL_DELAY_MAX_MS: '1500' });
    try {
      const inFlight = Array.from({ length: 5 }, () => fetch(`${chain.diceRoller.url}/roll?die=fair`));
      await chain.diceRoller.waitForLog((line) => line.message === 'Die specification retrieved from service');
      chain.diceRoller.signal('SIGTERM');
      await chain.diceRoller.waitForLog((line) => line.message.startsWith('Shutting down'));
      await expect(fetch(`${chain.diceRoller.url}/health`)).rejects.toThrow();
      const responses = await Promise.all(inFlight);
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
      const exit = await chain.diceRoller.exited;
      expect(exit.code).toBe(0);
      expect(chain.diceRoller.logs.at(-1)?.message).toBe('Shutdown complete');
      const rollerServerSpans = chain.receiver.spans.filter(
        (span) => span.service === 'dice-roller' && span.kind === 'server',
      );
      expect(rollerServerSpans.length).toBeGreaterThanOrEqual(5);
    } finally {
      await chain.stop();
    }
  });
});
