import type { RequestHandler, Response } from 'express';

/**
 * RFC 9457 problem details. Each kind of error has its own stable `type`, so a
 * caller tells errors apart without parsing `detail`.
 */
export const ProblemType = {
  invalidParameter: 'urn:dice-roller:problem:invalid-parameter',
  badRequest: 'urn:dice-roller:problem:bad-request',
  unknownDie: 'urn:dice-roller:problem:unknown-die',
  dieFailed: 'urn:dice-roller:problem:die-failed',
  upstreamUnavailable: 'urn:dice-roller:problem:upstream-unavailable',
  upstreamTimeout: 'urn:dice-roller:problem:upstream-timeout',
  upstreamError: 'urn:dice-roller:problem:upstream-error',
  notFound: 'urn:dice-roller:problem:not-found',
  methodNotAllowed: 'urn:dice-roller:problem:method-not-allowed',
  notReady: 'urn:dice-roller:problem:not-ready',
  internalError: 'urn:dice-roller:problem:internal-error',
} as const;

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * Thrown by handlers; the error path (error-path.ts) turns it into the response,
 * the span status, the log line. `logFields` go on that log line with the event's
 * own fields (`die_type`, ...).
 */
export class ProblemError extends Error {
  constructor(
    readonly problem: Problem,
    readonly logFields: Record<string, unknown> = {},
  ) {
    super(problem.detail);
    this.name = 'ProblemError';
  }
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
}

export function invalidParameter(name: string, detail: string): ProblemError {
  return new ProblemError({
    type: ProblemType.invalidParameter,
    title: 'Invalid parameter',
    status: 400,
    detail,
    parameter: name,
  });
}

export const notFoundHandler: RequestHandler = (req) => {
  throw new ProblemError({
    type: ProblemType.notFound,
    title: 'Not found',
    status: 404,
    detail: `No resource at ${req.path.length > 200 ? `${req.path.slice(0, 200)}...` : req.path}`,
  });
};

/** For a route's other methods: 405 with the `Allow` header RFC 9110 requires. */
export function methodNotAllowed(allowed: readonly string[] = ['GET', 'HEAD']): RequestHandler {
  const allow = allowed.join(', ');
  return (req, res) => {
    res.setHeader('Allow', allow);
    throw new ProblemError({
      type: ProblemType.methodNotAllowed,
      title: 'Method not allowed',
      status: 405,
      detail: `${req.method} is not supported here; use ${allow}`,
    });
  };
}
