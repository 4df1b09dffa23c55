import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports';
import { type ServiceProcess, startChain, startService } from '../support/service-process';

const started: ServiceProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((service) => service.stop()));
});

async function get(url: string): Promise<{ status: number; body: Record<string, unknown>; ms: number }> {
  const begin = performance.now();
  const response = await fetch(url);
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, body, ms: performance.now() - begin };
}

describe('die-service stopped', () => {
  it('gives 503 from dice-roller and the frontend within the timeout, and recovers once it is back', async () => {
    const timeouts = { DIE_SERVICE_TIMEOUT_MS: '1000', ROLL_DELAY_MAX_MS: '0', DICE_ROLLER_TIMEOUT_MS: '3000' };
    const chain = await startChain(timeouts);
    started.push(...chain.all);
    expect((await get(`${chain.frontend.url}/roll?die=fair`)).status).toBe(200);

    await chain.dieService.stop();
    const fromRoller = await get(`${chain.diceRoller.url}/roll?die=fair`);
    expect(fromRoller.status).toBe(503);
    expect(fromRoller.body).toMatchObject({ type: 'urn:dice-roller:problem:upstream-unavailable' });
    expect(fromRoller.ms).toBeLessThan(1000);
    const fromFrontend = await get(`${chain.frontend.url}/roll?die=fair`);
    expect(fromFrontend.status).toBe(503);
    expect(fromFrontend.body).toMatchObject({
      detail: 'die-service is unavailable',
      trace_id: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(fromFrontend.ms).toBeLessThan(3000);
    expect((await get(`${chain.diceRoller.url}/ready`)).status).toBe(503);
    expect((await get(`${chain.frontend.url}/dice`)).status).toBe(503);
    expect((await fetch(`${chain.frontend.url}/`)).status).toBe(200);

    // Same port, nobody else restarted.
    started.push(await startService('die-service', { port: chain.dieService.port, env: timeouts }));
    expect((await get(`${chain.diceRoller.url}/ready`)).status).toBe(200);
    expect((await get(`${chain.frontend.url}/roll?die=fair`)).status).toBe(200);
    expect((await get(`${chain.frontend.url}/dice`)).body).toEqual({ identifiers: ['fair', 'risky', 'extreme'] });
  });

  it('gives 503 from the frontend when dice-roller is down, and recovers once it is back', async () => {
    const chain = await startChain({ ROLL_DELAY_MAX_MS: '0' });
    started.push(...chain.all);
    await chain.diceRoller.stop();
    const response = await get(`${chain.frontend.url}/roll?die=fair`);
    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({
      type: 'urn:dice-roller:problem:upstream-unavailable',
      detail: 'dice-roller is unavailable',
    });
    expect((await get(`${chain.frontend.url}/ready`)).status).toBe(503);

    started.push(
      await startService('dice-roller', {
        port: chain.diceRoller.port,
        env: { DIE_SERVICE_URL: chain.dieService.url, ROLL_DELAY_MAX_MS: '0' },
      }),
    );
    expect((await get(`${chain.frontend.url}/roll?die=fair`)).status).toBe(200);
  });
});

describe('start order', () => {
  it('does not matter: a frontend started alone serves its page and fills the dice once die-service is up', async () => {
    const [diePort, rollerPort] = await Promise.all([freePort(), freePort()]);
    const urls = { DIE_SERVICE_URL: `http://127.0.0.1:${diePort}`, DICE_ROLLER_URL: `http://127.0.0.1:${rollerPort}` };
    const frontend = await startService('frontend', { env: urls });
    started.push(frontend);
    expect((await fetch(`${frontend.url}/`)).status).toBe(200);
    expect((await get(`${frontend.url}/dice`)).status).toBe(503);

    started.push(await startService('die-service', { port: diePort }));
    expect((await get(`${frontend.url}/dice`)).body).toEqual({ identifiers: ['fair', 'risky', 'extreme'] });
    started.push(await startService('dice-roller', { port: rollerPort, env: { ...urls, ROLL_DELAY_MAX_MS: '0' } }));
    expect((await get(`${frontend.url}/roll?die=fair`)).status).toBe(200);
  });
});
