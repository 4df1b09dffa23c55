import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracedChain } from '../support/service-process';

let chain: Awaited<ReturnType<typeof startTracedChain>>;

beforeAll(async () => {
  chain = await startTracedChain({ ROLL_DELAY_MAX_MS: '2000' });
});

afterAll(async () => {
  await chain?.stop();
});

describe('clients that give up before their roll is done', () => {
  it('leave the services answering, and their logs free of tracing warnings', async () => {
    const clients = 12;
    const logged = (message: string) => chain.frontend.logs.filter((line) => line.message === message).length;
    const controllers = Array.from({ length: clients }, () => new AbortController());
    const rolls = controllers.map((controller) =>
      fetch(`${chain.frontend.url}/roll?die=fair`, { signal: controller.signal }).then(
        async (response) => {
          await response.body?.cancel();
          return 'answered';
        },
        () => 'gave up',
      ),
    );
    // Every roll is in the frontend's hands (each waits up to 2 s on dice-roller) before its client leaves.
    await chain.frontend.waitForLog(() => logged('Roll requested') === clients);
    for (const controller of controllers) controller.abort();
    expect((await Promise.all(rolls)).filter((outcome) => outcome === 'gave up').length).toBeGreaterThan(0);

    // The frontend still finishes each roll after its client left, and logs it.
    await chain.frontend.waitForLog(() => logged('Roll succeeded') === clients);
    const response = await fetch(`${chain.frontend.url}/roll?die=fair`);
    expect(response.status).toBe(200);

    // Setting attributes on a server span that ended with its connection would
    // earn a warning from the SDK for every abandoned roll.
    const warnings = chain.all.flatMap((service) => service.logs.filter((line) => line.level === 'WARNING'));
    expect(warnings).toEqual([]);
  });
});
