import { faultValue } from '@dice-roller/fault-lab';
import type { DieSpecification } from 'die-service/client';

/**
 * dice-roller's scenarios of the fault lab (README, "Fault lab"), each switched by
 * its flag in the flag file. Evaluating a flag that is on puts the semantic
 * conventions' `feature_flag.evaluation` event on the span of the roll.
 */

/**
 * The classic Node.js mistake: CPU work done synchronously on the event loop.
 * While it runs, no other request of this process moves.
 */
export async function blockEventLoopIfFaulty(): Promise<void> {
  const burnMs = await faultValue('dice-roller-event-loop-block');
  const end = performance.now() + burnMs;
  while (performance.now() < end) {
    // Busy: nothing else runs on this thread until the loop ends.
  }
}

/** A loaded die lands on its highest face more often than its specification says. */
export async function loadedRoll(die: string, specification: DieSpecification, value: number): Promise<number> {
  // The evaluation context names the die, so the flag's targeting rule loads only the one it names.
  const weight = await faultValue('dice-roller-loaded-die', { die });
  return weight > 0 && Math.random() < weight ? Math.max(...specification.faces) : value;
}
