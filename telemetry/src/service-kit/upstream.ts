import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type client from 'prom-client';
import { errors, Pool } from 'undici';
import { counter, histogram, LATENCY_BUCKETS, observeWithExemplar } from '../otel/metrics';
import { sampledTraceId } from '../otel/spans';
import { type Problem, ProblemError } from './problem';
import { currentServerTiming, serverTimingHeader } from './server-timing';

/** How a call to another service ended, when it did not end with an HTTP response. */
export type UpstreamFailureKind = 'timeout' | 'connection_error';

export class UpstreamFailure extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    readonly upstream: string,
    options?: ErrorOptions,
  ) {
    super(`${upstream}: ${kind === 'timeout' ? 'did not answer in time' : 'could not be reached'}`, options);
    this.name = 'UpstreamFailure';
  }
}

/** The upstream answered, but not with anything its contract allows. */
export class UnexpectedUpstreamResponse extends Error {
  constructor(
    readonly upstream: string,
    readonly status: number,
  ) {
    super(`${upstream} answered with unexpected status ${status}`);
    this.name = 'UnexpectedUpstreamResponse';
  }
}

/**
 * The upstream answered with a problem its contract allows (an unknown die, a die
 * that failed): thrown by a typed client so that the error path passes it on to
 * our own caller as it is, with the upstream's status.
 */
export class UpstreamProblem extends ProblemError {
  constructor(
    readonly upstream: string,
    problem: Problem,
  ) {
    super(problem);
    this.name = 'UpstreamProblem';
  }
}

export interface UpstreamResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** How one call ended, as its metrics see it. */
export interface CallOutcome<T> {
  /** The HTTP status the upstream answered with, or how the call failed without one. */
  status: number | UpstreamFailureKind;
  /** What the typed client made of the answer, when it was within the contract. */
  answer?: T;
  /** The problem the upstream answered with, when it was one its contract allows. */
  problem?: Problem;
}

/**
 * Which of the caller's own metrics a call records, and with which labels: the
 * names and labels are the caller's contract, the recording is the client's.
 * `labels` runs once the call has ended, so a label fed by the request can wait
 * for the upstream to vouch for its value (see KnownValues).
 */
export interface CallMetrics<T> {
  /** Counted once per call. */
  calls: client.Counter<string>;
  /** Observed once per call, in seconds, with the trace id as exemplar (created with `enableExemplars`). */
  duration: client.Histogram<string>;
  labels(outcome: CallOutcome<T>): { calls: client.LabelValues<string>; duration: client.LabelValues<string> };
}

/** A metric of the caller's contract: its name, its help text, the labels it is recorded by. */
interface CallMetricDefinition {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

/**
 * The two metrics one kind of call records (see CallMetrics), on /metrics: a
 * counter, and a latency histogram (LATENCY_BUCKETS, exemplars on). The caller
 * names them; the client records them.
 */
export function callMetricPair(
  calls: CallMetricDefinition,
  duration: CallMetricDefinition,
): Pick<CallMetrics<unknown>, 'calls' | 'duration'> {
  return {
    calls: counter(calls.name, calls.help, calls.labelNames),
    duration: histogram(duration.name, duration.help, {
      labelNames: duration.labelNames ?? [],
      buckets: LATENCY_BUCKETS,
      exemplars: true,
    }),
  };
}

export interface UpstreamOptions {
  /** Name used in errors, logs and Server-Timing ("die-service"), never the address. */
  name: string;
  baseUrl: string;
  /** The whole call (connect, headers, body) must finish within this. */
  timeoutMs: number;
  /** Most keep-alive connections open to the upstream at once (default DEFAULT_CONNECTIONS). */
  connections?: number;
}

/**
 * A connection carries one call at a time, so a pool needs as many as there are
 * calls in flight: arrival rate times call duration (Little's law). A roll holds
 * its call to dice-roller for up to ROLL_DELAY_MAX_MS (1 s by default, 0.5 s on
 * average), so 500 simulated users keep about 500 calls in flight; a pool of 64
 * capped the frontend at 64 / 0.5 s = 128 rolls/s and queued the rest. 1024 covers
 * that with room to spare and still bounds the sockets a burst can open; idle
 * connections close after 4 s, so an idle pool holds none.
 */
const DEFAULT_CONNECTIONS = 1024;

/** The same for every call; undici adds the trace context headers to the request, not to this object. */
const ACCEPT_JSON = { accept: 'application/json, application/problem+json' } as const;

/**
 * The reason a call is aborted with when its deadline passes. The undici
 * instrumentation names a failed client span's `error.type` after the error's
 * `code`: `timeout`, the value the semantic conventions give a timed-out call.
 */
class DeadlineExceeded extends Error {
  readonly code = 'timeout';
  constructor(upstream: string, timeoutMs: number) {
    super(`${upstream} did not answer within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof DeadlineExceeded ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The client side of every call from one service to another: one keep-alive
 * connection pool per upstream, a deadline on the whole call, and the call's
 * telemetry (the undici instrumentation makes its client span):
 * - the caller's call metrics, with the outcome label and an exemplar;
 * - the `<service>.wait` entry of the current response's Server-Timing, followed
 *   by the upstream's own entries, so the first service's answer times the chain.
 * A call that times out or loses its connection ends as an UpstreamFailure, never
 * as a hang; undici destroys the socket of an aborted request, so a slow
 * connection is never reused.
 */
export class Upstream {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: UpstreamOptions) {
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? DEFAULT_CONNECTIONS,
      connect: { timeout: options.timeoutMs },
      // Backstops: the call's own deadline (below) fires first and names the failure.
      headersTimeout: options.timeoutMs + 1_000,
      bodyTimeout: options.timeoutMs + 1_000,
      keepAliveTimeout: 4_000,
    });
  }

  get name(): string {
    return this.options.name;
  }

  /**
   * GET `path` (with `query`) and let `interpret` turn the JSON answer into what
   * the contract promises, or throw (UpstreamProblem, UnexpectedUpstreamResponse).
   * Records the call in `metrics` and in the current response's Server-Timing.
   */
  async get<T>(
    path: string,
    query: Record<string, string> | undefined,
    interpret: (response: UpstreamResponse) => T,
    metrics?: CallMetrics<T>,
  ): Promise<T> {
    const started = performance.now();
    const outcome: CallOutcome<T> = { status: 'connection_error' };
    let upstreamTiming: string | undefined;
    try {
      const response = await this.request(path, query);
      outcome.status = response.status;
      upstreamTiming = serverTimingHeader(response.headers);
      outcome.answer = interpret(response);
      return outcome.answer;
    } catch (error) {
      if (error instanceof UpstreamFailure) outcome.status = error.kind;
      if (error instanceof UpstreamProblem) outcome.problem = error.problem;
      throw error;
    } finally {
      const elapsedMs = performance.now() - started;
      currentServerTiming()?.recordUpstream(this.options.name, elapsedMs, upstreamTiming);
      if (metrics !== undefined) {
        const labels = metrics.labels(outcome);
        metrics.calls.inc(labels.calls);
        observeWithExemplar(metrics.duration, labels.duration, elapsedMs / 1000, sampledTraceId());
      }
    }
  }

  /**
   * Whether the upstream answers its liveness endpoint. Not traced: a readiness
   * probe every few seconds would otherwise start a new trace each time.
   */
  async isReachable(): Promise<boolean> {
    try {
      const response = await context.with(suppressTracing(context.active()), () => this.request('/health'));
      return response.status === 200;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  private async request(path: string, query?: Record<string, string>): Promise<UpstreamResponse> {
    // A deadline cleared when the call ends. AbortSignal.timeout() cannot be
    // cleared: every call's timer fired seconds later and built a DOMException, 2 %
    // of dice-roller's CPU under load, and kept the call's objects alive until then.
    const deadline = new AbortController();
    const { name, timeoutMs } = this.options;
    const timer = setTimeout(() => deadline.abort(new DeadlineExceeded(name, timeoutMs)), timeoutMs);
    try {
      const response = await this.pool.request({
        method: 'GET',
        path: `${this.basePath}${path}${query === undefined ? '' : `?${new URLSearchParams(query)}`}`,
        headers: ACCEPT_JSON,
        signal: deadline.signal,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, body: parseJson(text) };
    } catch (error) {
      throw new UpstreamFailure(isTimeout(error) ? 'timeout' : 'connection_error', name, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Where a typed client's upstream is, and how long one call may take (its caller's configuration). */
export interface UpstreamClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * What a typed client (`die-service/client`, `dice-roller/client`) is built on: one
 * Upstream, the readiness probe and the shutdown its caller needs, and the one
 * rule for an answer that is not what a call promises.
 */
export abstract class UpstreamClient {
  protected readonly upstream: Upstream;

  /** `name` is the upstream's (`die-service`); the caller gives where it is and how long a call may take. */
  constructor(name: string, { baseUrl, timeoutMs }: UpstreamClientOptions) {
    this.upstream = new Upstream({ name, baseUrl, timeoutMs });
  }

  /** Whether the upstream answers its liveness endpoint (for the caller's own readiness). */
  isReachable(): Promise<boolean> {
    return this.upstream.isReachable();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }

  /**
   * Throws for an answer that is not what the call promises: a problem the
   * contract allows (`problemAllowed(status)`) is passed on as the upstream said it
   * (UpstreamProblem); anything else is outside the contract (UnexpectedUpstreamResponse).
   */
  protected refuse({ status, body }: UpstreamResponse, problemAllowed: (status: number) => boolean): never {
    if (problemAllowed(status) && isProblem(body)) throw new UpstreamProblem(this.upstream.name, { ...body, status });
    throw new UnexpectedUpstreamResponse(this.upstream.name, status);
  }
}

/** Whether `body` is an RFC 9457 problem with the fields this project's contracts promise. */
function isProblem(body: unknown): body is Problem {
  const candidate = body as Partial<Problem> | undefined;
  return (
    typeof candidate?.type === 'string' && typeof candidate.status === 'number' && typeof candidate.detail === 'string'
  );
}
