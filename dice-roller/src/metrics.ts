import { type CallMetrics, type KnownValues, LATENCY_BUCKETS, registry } from '@dice-roller/telemetry';
import type { DieSpecification } from 'die-service/client';
import client from 'prom-client';

export const diceRolls = new client.Counter({
  name: 'dice_rolls_total',
  help: 'Rolls by die type (a known die or "unknown") and result (success or error).',
  labelNames: ['die_type', 'result'] as const,
  registers: [registry],
});

export const diceRollValue = new client.Histogram({
  name: 'dice_roll_value',
  help: 'Values rolled, by die type.',
  labelNames: ['die_type'] as const,
  buckets: [0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 20, 100],
  registers: [registry],
});

export const dieServiceRequests = new client.Counter({
  name: 'die_service_requests_total',
  help: 'Calls to die-service by identifier and outcome: success, error_<http code>, timeout or connection_error.',
  labelNames: ['identifier', 'status'] as const,
  registers: [registry],
});

export const dieServiceRequestDuration = new client.Histogram({
  name: 'die_service_request_duration_seconds',
  help: 'Duration of calls to die-service, whatever their outcome.',
  buckets: LATENCY_BUCKETS,
  enableExemplars: true,
  registers: [registry],
});

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
