import { setTimeout as sleep } from 'node:timers/promises';
import type { DieSpecification } from 'die-service/client';

export type RollOutcome = { failed: false; value: number } | { failed: true };

export interface RollOptions {
  /** The roll waits a uniformly random time from 0 to this many milliseconds. */
  maxDelayMs: number;
  /** Uniform on [0, 1); injectable so tests can force an outcome. */
  random?: () => number;
}

/**
 * Rolls a die as its specification says: after a random delay (a timer, so the
 * event loop keeps serving other requests meanwhile), fail with probability
 * `error_rate`, else land on one of the faces, each equally likely.
 */
export async function rollDie(
  specification: DieSpecification,
  { maxDelayMs, random = Math.random }: RollOptions,
): Promise<RollOutcome> {
  if (maxDelayMs > 0) await sleep(random() * maxDelayMs);
  if (random() < specification.error_rate) return { failed: true };
  const face = specification.faces[Math.floor(random() * specification.faces.length)];
  if (face === undefined) throw new Error('A die specification has no faces');
  return { failed: false, value: face };
}
