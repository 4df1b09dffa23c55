import { describe, expect, it } from 'vitest';
import { ServerTiming } from '../src/service-kit/server-timing';
import { parseServerTiming, relayableEntries } from '../src/service-kit/server-timing-header';

describe('ServerTiming.recordPart', () => {
  it("adds a part of the service's own work, its start counted from the service's own", () => {
    const timing = new ServerTiming('dice-roller');
    const startedAt = performance.now() + 12.345;
    timing.recordPart('roll.3', 'roll 3', startedAt, 412.3);
    const entries = parseServerTiming(timing.headerValue());
    expect(entries.map((entry) => entry.name)).toEqual(['dice-roller', 'dice-roller.roll.3']);
    expect(entries[1]).toEqual({
      name: 'dice-roller.roll.3',
      duration: 412.3,
      description: expect.stringMatching(/^roll 3 started 12\.3\d ms into dice-roller$/),
    });
  });

  it('is relayed by the caller whole, for a batch of 20 rolls', () => {
    const timing = new ServerTiming('dice-roller');
    timing.recordUpstream('die-service', 1.5, 'die-service;dur=0.4;desc="die-service total"');
    for (let i = 0; i < 20; i++) timing.recordPart(`roll.${i}`, `roll ${i}`, performance.now(), i);
    const relayed = relayableEntries(timing.headerValue(), new Set(['frontend', 'frontend.wait']));
    expect(relayed).toHaveLength(23);
    expect(relayed.filter((entry) => entry.description?.endsWith('ms into dice-roller'))).toHaveLength(20);
  });
});
