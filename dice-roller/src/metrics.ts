import { type CallMetrics, callMetricPair, counter, histogram, type KnownValues } from '@dice-roller/telemetry';
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

/** dice-roller's calls to die-service, recorded by the upstream client (see specificationCall). */
const dieServiceCalls = callMetricPair(
  {
    name: 'die_service_requests_total',
    help: 'Calls to die-service by identifier and outcome: success, error_<http code>, timeout or connection_error.',
    labelNames: ['identifier', 'status'],
  },
  { name: 'die_service_request_duration_seconds', help: 'Duration of calls to die-service, whatever their outcome.' },
);

/**
 * How dice-roller's call to die-service for die `die` is counted: `status` is
 * `success`, `error_<http code>`, `timeout` or `connection_error`. A die becomes
 * one of `knownDice` once die-service has returned its specification.
 */
export function specificationCall(die: string, knownDice: KnownValues): CallMetrics<DieSpecification> {
  return {
    ...dieServiceCalls,
    labels: ({ status, answer }) => {
      if (answer !== undefined) knownDice.vouchFor(die);
      const outcome = answer !== undefined ? 'success' : typeof status === 'number' ? `error_${status}` : status;
      return { calls: { identifier: knownDice.label(die), status: outcome }, duration: {} };
    },
  };
}
