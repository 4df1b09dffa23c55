import { setTimeout as sleep } from 'node:timers/promises';
import { faultValue } from '@dice-roller/fault-lab';
import type { DieSpecification } from './die-specification';

/**
 * die-service's scenarios of the fault lab (README, "Fault lab"), each switched by
 * its flag in the flag file. Evaluating a flag that is on puts the semantic
 * conventions' `feature_flag.evaluation` event on the request's span.
 */

/** Before a specification is answered: the slow die-service, the hanging one, the failing one. */
export async function beforeSpecification(): Promise<void> {
  const [slowMs, hangMs, failingShare] = await Promise.all([
    faultValue('die-service-slow'),
    faultValue('die-service-hang'),
    faultValue('die-service-failing'),
  ]);
  if (slowMs + hangMs > 0) await sleep(slowMs + hangMs);
  // An unexpected error, as a bug would throw it: the 500 path, its log line and the span's exception event.
  if (Math.random() < failingShare) throw new Error('Fault lab: die-service-failing made this request fail');
}

/**
 * The specification as a bad deploy answers it: `faces` renamed `sides`, a change
 * its callers were never told about.
 */
export async function deployedSpecification(specification: DieSpecification): Promise<object> {
  const brokenShare = await faultValue('die-service-bad-deploy');
  if (!(Math.random() < brokenShare)) return specification;
  const { faces, ...rest } = specification;
  return { sides: faces, ...rest };
}
