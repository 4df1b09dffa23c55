import { SpanStatusCode } from '@opentelemetry/api';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { currentTraceId, requestSpan } from './request-span';

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

/** Thrown (or passed to `next`) by handlers; the error handler turns it into a response. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
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

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, {
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
    sendProblem(res, {
      type: ProblemType.methodNotAllowed,
      title: 'Method not allowed',
      status: 405,
      detail: `${req.method} is not supported here; use ${allow}`,
    });
  };
}

interface HttpError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * The last middleware of every app. Known problems are sent as they are; errors
 * raised by Express itself for bad requests (malformed URL encoding, oversized
 * bodies) keep their 4xx status; anything else is a 500 whose detail says nothing
 * about the internals, and whose cause is logged with the trace id.
 */
export function problemErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    if (error instanceof ProblemError) {
      sendProblem(res, error.problem);
      return;
    }
    const httpError = (typeof error === 'object' && error !== null ? error : {}) as HttpError;
    const status = Number(httpError.status ?? httpError.statusCode);
    if (Number.isInteger(status) && status >= 400 && status < 500) {
      sendProblem(res, {
        type: ProblemType.badRequest,
        title: 'Bad request',
        status,
        detail:
          httpError.expose === true && typeof httpError.message === 'string'
            ? httpError.message
            : 'The request could not be understood',
      });
      return;
    }
    logger.error({ error, path: req.path }, 'Unhandled error while serving a request');
    // The trace of a failed request should say what failed, stack included.
    const span = requestSpan();
    if (span !== undefined && error instanceof Error) {
      span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    sendProblem(res, {
      type: ProblemType.internalError,
      title: 'Internal error',
      status: 500,
      detail: 'The service failed to handle the request',
      ...(currentTraceId() === undefined ? {} : { trace_id: currentTraceId() }),
    });
  };
}
