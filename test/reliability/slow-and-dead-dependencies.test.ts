import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Listening, listenSilently } from '../support/in-process';
import { type ServiceProcess, startService } from '../support/service-process';

const TIMEOUT_MS = 250;
let silentDieService: Listening;
let diceRoller: ServiceProcess;

beforeAll(async () => {
  silentDieService = await listenSilently();
  diceRoller = await startService('dice-roller', {
    env: { DIE_SERVICE_URL: silentDieService.url, DIE_SERVICE_TIMEOUT_MS: String(TIMEOUT_MS), ROLL_DELAY_MAX_MS: '0' },
  });
});

afterAll(async () => {
  await diceRoller?.stop();
  await silentDieService?.close();
});

function openFileDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('an upstream that accepts the connection but never answers', () => {
  it('gives 504 within the timeout, never reuses the stuck connection, and leaks no sockets', async () => {
    // Warm up: the first requests open the pool's connections and load lazy modules.
    for (let i = 0; i < 5; i++) await fetch(`${diceRoller.url}/roll?die=fair`);
    const descriptorsBefore = openFileDescriptors(diceRoller.pid);

    for (let round = 0; round < 40; round++) {
      const started = performance.now();
      const response = await fetch(`${diceRoller.url}/roll?die=fair`);
      const elapsed = performance.now() - started;
      expect(response.status).toBe(504);
      expect(await response.json()).toMatchObject({ type: 'urn:dice-roller:problem:upstream-timeout' });
      // The call is bounded by its timeout (plus scheduling slack on a busy machine).
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 10);
      expect(elapsed).toBeLessThan(TIMEOUT_MS + 2000);
      // undici destroyed the socket of the aborted request: at most the one in use now lingers.
      expect(silentDieService.openConnections()).toBeLessThanOrEqual(1);
    }
    expect(openFileDescriptors(diceRoller.pid) - descriptorsBefore).toBeLessThanOrEqual(3);

    const metrics = await (await fetch(`${diceRoller.url}/metrics`)).text();
    expect(metrics).toMatch(/^die_service_requests_total\{identifier="unknown",status="timeout"\} (4[5-9]|[5-9]\d)$/m);
  });

  it('keeps /health fast while every roll waits on the dead upstream', async () => {
    const stuck = Array.from({ length: 20 }, () => fetch(`${diceRoller.url}/roll?die=fair`));
    const health = await fetch(`${diceRoller.url}/health`);
    expect(health.status).toBe(200);
    const answers = await Promise.all(stuck);
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(504));
  });
});
