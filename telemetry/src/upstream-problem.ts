import type { Problem } from './problem';
import { ProblemType } from './problem';
import { UnexpectedUpstreamResponse, UpstreamFailure } from './upstream';

export interface UpstreamProblem {
  /** How the call ended: `timeout`, `connection_error`, or the HTTP status the upstream answered with. */
  outcome: 'timeout' | 'connection_error' | number;
  /** What to answer our own caller. */
  problem: Problem;
}

/**
 * What a failed call to another service becomes: 504 when it did not answer in
 * time, 503 when it could not be reached, 502 when it answered outside its
 * contract. Any other error is a bug here, not an upstream failure, and is
 * rethrown to reach the 500 handler.
 */
export function upstreamProblem(error: unknown): UpstreamProblem {
  if (error instanceof UpstreamFailure && error.kind === 'timeout') {
    return {
      outcome: 'timeout',
      problem: {
        type: ProblemType.upstreamTimeout,
        title: 'Upstream timeout',
        status: 504,
        detail: `${error.upstream} did not answer in time`,
      },
    };
  }
  if (error instanceof UpstreamFailure) {
    return {
      outcome: 'connection_error',
      problem: {
        type: ProblemType.upstreamUnavailable,
        title: 'Upstream unavailable',
        status: 503,
        detail: `${error.upstream} is unavailable`,
      },
    };
  }
  if (error instanceof UnexpectedUpstreamResponse) {
    return {
      outcome: error.status,
      problem: {
        type: ProblemType.upstreamError,
        title: 'Upstream error',
        status: 502,
        detail: `${error.upstream} gave an unexpected answer`,
      },
    };
  }
  throw error;
}
