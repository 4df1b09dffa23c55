import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { type Failure, recordFailure, withTraceId } from '../otel/spans';
import { type Problem, ProblemError, ProblemType, sendProblem } from './problem';
import { UnexpectedUpstreamResponse, UpstreamFailure } from './upstream';

/** What the error path makes of one error: the answer, and what the log line says about it. */
interface Classified {
  problem: Problem;
  /** For a 5xx, the server span's status message and `error.type` (the problem type, or the exception's type). */
  failure: Failure;
  logFields: Record<string, unknown>;
  /** Set for an error nobody expected (a bug): recorded on the span with its stack. */
  unexpected?: Error | true;
}

interface HttpError {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
}

/**
 * A failed call to another service: 504 when it did not answer in time, 503 when
 * it could not be reached, 502 when it answered outside its contract.
 */
function upstreamFailureProblem(error: UpstreamFailure | UnexpectedUpstreamResponse): Problem {
  if (error instanceof UnexpectedUpstreamResponse) {
    return {
      type: ProblemType.upstreamError,
      title: 'Upstream error',
      status: 502,
      detail: `${error.upstream} gave an unexpected answer`,
    };
  }
  return error.kind === 'timeout'
    ? {
        type: ProblemType.upstreamTimeout,
        title: 'Upstream timeout',
        status: 504,
        detail: `${error.upstream} did not answer in time`,
      }
    : {
        type: ProblemType.upstreamUnavailable,
        title: 'Upstream unavailable',
        status: 503,
        detail: `${error.upstream} is unavailable`,
      };
}

function classify(error: unknown): Classified {
  if (error instanceof ProblemError) {
    const { problem } = error;
    return { problem, failure: { message: problem.detail, type: problem.type }, logFields: error.logFields };
  }
  if (error instanceof UpstreamFailure || error instanceof UnexpectedUpstreamResponse) {
    const problem = upstreamFailureProblem(error);
    const cause = error.cause instanceof Error ? error.cause.message : error.message;
    return {
      problem,
      failure: { message: problem.detail, type: problem.type },
      logFields: { upstream: error.upstream, error: cause },
    };
  }
  // Errors Express raises itself for bad requests (malformed URL encoding, an
  // oversized body) keep their 4xx status.
  const httpError = (typeof error === 'object' && error !== null ? error : {}) as HttpError;
  const status = Number(httpError.status ?? httpError.statusCode);
  if (Number.isInteger(status) && status >= 400 && status < 500) {
    const detail =
      httpError.expose === true && typeof httpError.message === 'string'
        ? httpError.message
        : 'The request could not be understood';
    return {
      problem: { type: ProblemType.badRequest, title: 'Bad request', status, detail },
      failure: { message: detail, type: ProblemType.badRequest },
      logFields: {},
    };
  }
  // Anything else is a bug here: a 500 whose detail says nothing about the internals.
  return {
    problem: {
      type: ProblemType.internalError,
      title: 'Internal error',
      status: 500,
      detail: 'The service failed to handle the request',
    },
    failure:
      error instanceof Error ? { message: error.message, type: error.name } : { message: String(error), type: 'Error' },
    logFields: { error },
    unexpected: error instanceof Error ? error : true,
  };
}

export interface ErrorPathOptions {
  logger: Logger;
  /** Every problem carries the request's `trace_id` (the frontend's callers are people who report it). */
  traceIdInProblems: boolean;
}

/**
 * The one error path, the last middleware of every app. Whatever a handler threw
 * (a ProblemError, an upstream failure, a bug) becomes:
 * - the problem+json answer (RFC 9457), whose status the RED metrics count;
 * - for a 5xx, the server span's status ERROR with the reason as its message and
 *   `error.type`; an unexpected exception also as the span's exception event;
 * - one log line: WARNING for a 4xx, ERROR for a 5xx, with the trace id.
 */
export function errorPath({ logger, traceIdInProblems }: ErrorPathOptions): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const { problem, failure, logFields, unexpected } = classify(error);
    // Semantic conventions: a 4xx is the client's error, not the server span's.
    if (problem.status >= 500) recordFailure(res, failure, unexpected instanceof Error ? unexpected : undefined);
    const fields = { ...logFields, problem_type: problem.type, status: problem.status };
    if (unexpected !== undefined) {
      logger.error({ ...fields, path: req.path }, 'Unhandled error while serving a request');
    } else if (problem.status >= 500) {
      logger.error(fields, problem.detail);
    } else {
      logger.warn(fields, problem.detail);
    }
    sendProblem(res, traceIdInProblems || unexpected !== undefined ? withTraceId(problem) : problem);
  };
}
