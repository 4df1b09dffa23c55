import { type CallMetrics, type KnownValues, LATENCY_BUCKETS, ProblemType, registry } from '@dice-roller/telemetry';
import client from 'prom-client';

export const frontendRequests = new client.Counter({
  name: 'frontend_requests_total',
  help: 'Roll requests by die type and stage: received, then success, error, timeout or connection_error.',
  labelNames: ['die_type', 'status'] as const,
  registers: [registry],
});

export const backendRequests = new client.Counter({
  name: 'backend_requests_total',
  help: 'Calls to dice-roller by die type and HTTP status code (or timeout, connection_error).',
  labelNames: ['die_type', 'status_code'] as const,
  registers: [registry],
});

export const backendRequestDuration = new client.Histogram({
  name: 'backend_request_duration_seconds',
  help: 'Duration of calls to dice-roller, by die type.',
  labelNames: ['die_type'] as const,
  buckets: LATENCY_BUCKETS,
  enableExemplars: true,
  registers: [registry],
});

/**
 * How the frontend's call to dice-roller for die `die` (a roll, or a batch of them:
 * `T` is what the call answers) is counted: `status_code` is
 * the HTTP code, `timeout` or `connection_error`. A die becomes one of `knownDice`
 * once dice-roller rolled it or reported it failed.
 */
export function rollCall<T = number>(die: string, knownDice: KnownValues): CallMetrics<T> {
  return {
    calls: backendRequests,
    duration: backendRequestDuration,
    labels: ({ status, answer, problem }) => {
      if (answer !== undefined || problem?.type === ProblemType.dieFailed) knownDice.vouchFor(die);
      const dieType = knownDice.label(die);
      return { calls: { die_type: dieType, status_code: String(status) }, duration: { die_type: dieType } };
    },
  };
}
