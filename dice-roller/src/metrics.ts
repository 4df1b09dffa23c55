import { type CallMetrics, counter, histogram, type KnownValues, LATENCY_BUCKETS } from '@dice-roller/telemetry';
import type { DieSpecification } from 'die-service/client';

export const diceRolls = counter(
  'dice_rolls_total',
  'Rolls by die type (a known die or "unknown") and result (success or error).',
  ['die_type', 'result'],
);

export const diceRollValue = histogram('dice_roll_value', 'Values rolled, by die type.', {
  labelNames: ['die_type'],
  buckets: [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 20, 100],
});

export const dieServiceRequests = counter(
  'die_service_requests_total',
  'Calls to die-service by identifier and outcome: success, error_<http code>, timeout or connection_error.',
  ['identifier', 'status'],
);

export const dieServiceRequestDuration = histogram(
  'die_service_request_duration_seconds',
  'Duration of calls to die-service, whatever their outcome.',
  { buckets: LATENCY_BUCKETS, exemplars: true },
);

/**
 * How dice-roller's call to die-service for die `die` is counted: `status` is
 * `success`, `error_<http code>`, `timeout` or `connection_error`. A die becomes
 * one of `knownDice` once die-service has returned its specification.
 */
export function specificationCall(die: string, knownDice: KnownValues): CallMetrics<DieSpecification> {
  return {
    calls: dieServiceRequests,
    duration: dieServiceRequestDuration,
    labels: ({ status, answer }) => {
      if (answer !== undefined) knownDice.vouchFor(die);
      const outcome = answer !== undefined ? 'success' : typeof status === 'number' ? `error_${status}` : status;
      return { calls: { identifier: knownDice.label(die), status: outcome }, duration: {} };
    },
  };
}
