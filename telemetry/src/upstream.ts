import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { errors, Pool } from 'undici';

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

export interface UpstreamResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface UpstreamOptions {
  /** Name used in errors and logs ("die-service"), never the address. */
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

/** The reason AbortSignal.timeout() gives, so a timed-out call reads the same either way. */
function timeoutError(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

function isTimeout(error: unknown): boolean {
  return (
    (error instanceof Error && error.name === 'TimeoutError') ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError
  );
}

/**
 * One keep-alive connection pool per upstream, created once per process, with
 * explicit timeouts on every phase. A call that times out or loses its connection
 * ends as an UpstreamFailure, never as a hang; undici destroys the socket of an
 * aborted request, so a slow connection is never reused.
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
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** GET `path` (with `query`) and parse the JSON body, whatever the status. */
  async getJson(path: string, query?: Record<string, string>): Promise<UpstreamResponse> {
    // A deadline cleared when the call ends. AbortSignal.timeout() cannot be
    // cleared: every call's timer fired seconds later and built a DOMException, 2 %
    // of dice-roller's CPU under load, and kept the call's objects alive until then.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(timeoutError()), this.options.timeoutMs);
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
      throw new UpstreamFailure(isTimeout(error) ? 'timeout' : 'connection_error', this.options.name, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Whether the upstream answers its liveness endpoint. Not traced: a readiness
   * probe every few seconds would otherwise start a new trace each time.
   */
  async isReachable(): Promise<boolean> {
    try {
      const response = await context.with(suppressTracing(context.active()), () => this.getJson('/health'));
      return response.status === 200;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
