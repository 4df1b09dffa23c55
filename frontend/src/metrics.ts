import { type CallMetrics, callMetricPair, counter, type KnownValues, ProblemType } from '@dice-roller/telemetry';

export const frontendRequests = counter(
  'frontend_requests_total',
  'Roll requests by die type and stage: received, then success, error, timeout or connection_error.',
  ['die_type', 'status'],
);

/** The frontend's calls to dice-roller, recorded by the upstream client (see rollCall). */
const diceRollerCalls = callMetricPair(
  {
    name: 'backend_requests_total',
    help: 'Calls to dice-roller by die type and HTTP status code (or timeout, connection_error).',
    labelNames: ['die_type', 'status_code'],
  },
  {
    name: 'backend_request_duration_seconds',
    help: 'Duration of calls to dice-roller, by die type.',
    labelNames: ['die_type'],
  },
);

/**
 * How the frontend's call to dice-roller for die `die` (a roll, or a batch of them:
 * `T` is what the call answers) is counted: `status_code` is
 * the HTTP code, `timeout` or `connection_error`. A die becomes one of `knownDice`
 * once dice-roller rolled it or reported it failed.
 */
export function rollCall<T = number>(die: string, knownDice: KnownValues): CallMetrics<T> {
  return {
    ...diceRollerCalls,
    labels: ({ status, answer, problem }) => {
      if (answer !== undefined || problem?.type === ProblemType.dieFailed) knownDice.vouchFor(die);
      const dieType = knownDice.label(die);
      return { calls: { die_type: dieType, status_code: String(status) }, duration: { die_type: dieType } };
    },
  };
}
