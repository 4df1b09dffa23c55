import { errors, Pool } from 'undici';

/**
 * How a request ended when it did not end with a roll: the HTTP status ("500"),
 * or one of the words the services' metrics use for calls without a response.
 * `invalid_response` is an answer that is neither a roll nor a problem.
 */
export type FailureStatus = `${number}` | 'timeout' | 'connection_error' | 'invalid_response';

export type RollOutcome =
  | { ok: true; roll: number; traceId: string | undefined }
  | { ok: false; status: FailureStatus; detail: string; traceId: string | undefined }
  /** Stopped by traffic-gen itself (a second Ctrl-C); not a result of the system. */
  | { ok: false; status: 'aborted'; detail: string; traceId: undefined };

export type DiceListing = { ok: true; identifiers: string[] } | { ok: false; status: FailureStatus; detail: string };

/** What GET /info says the service is (every Dice Roller service answers it). */
export type ServiceInfo = { ok: true; name: string | undefined } | { ok: false; status: FailureStatus; detail: string };

export interface FrontendClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Keep-alive connections to the frontend: as many as requests can be in flight. */
  connections: number;
}

interface Answer {
  status: number;
  body: unknown;
}

type CallResult = { answered: true; answer: Answer } | { answered: false; status: FailureStatus; detail: string };

/** As the services count their calls: a connection that cannot be made is a connection_error. */
function isTimeout(error: unknown): boolean {
  return (
    (error instanceof Error && error.name === 'TimeoutError') ||
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError
  );
}

/** The innermost message of an error chain ("connect ECONNREFUSED 127.0.0.1:8105"). */
function describe(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function problemField(body: unknown, field: 'detail' | 'trace_id'): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The typed client for the frontend's public API, over one keep-alive connection
 * pool with a limit on every phase of every request: a request ends as a roll, a
 * problem, a timeout or a connection error, never as a hang.
 */
export class FrontendClient {
  private readonly pool: Pool;
  private readonly basePath: string;

  constructor(private readonly options: FrontendClientOptions) {
    const url = new URL(options.baseUrl);
    this.basePath = url.pathname.replace(/\/$/, '');
    this.pool = new Pool(url.origin, {
      connections: options.connections,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** GET /info: the name the service at the base URL gives itself. */
  async info(signal = AbortSignal.timeout(this.options.timeoutMs)): Promise<ServiceInfo> {
    const result = await this.get('/info', signal);
    if (!result.answered) return { ok: false, status: result.status, detail: result.detail };
    const { status, body } = result.answer;
    if (status !== 200) {
      return { ok: false, status: `${status}`, detail: problemField(body, 'detail') ?? `HTTP ${status}` };
    }
    const name = (body as { name?: unknown } | undefined)?.name;
    return { ok: true, name: typeof name === 'string' ? name : undefined };
  }

  /** GET /dice: the dice the system offers, or why it could not say. */
  async listDice(signal = AbortSignal.timeout(this.options.timeoutMs)): Promise<DiceListing> {
    const result = await this.get('/dice', signal);
    if (!result.answered) {
      return { ok: false, status: result.status, detail: result.detail };
    }
    const { status, body } = result.answer;
    const identifiers = (body as { identifiers?: unknown } | undefined)?.identifiers;
    if (status === 200 && Array.isArray(identifiers) && identifiers.every((id) => typeof id === 'string')) {
      return { ok: true, identifiers };
    }
    const detail = problemField(body, 'detail');
    return {
      ok: false,
      status: status === 200 ? 'invalid_response' : `${status}`,
      detail: detail ?? `GET /dice answered ${status} without a list of dice`,
    };
  }

  /**
   * GET /roll?die=...; `stop` aborts the request when traffic-gen stops without
   * waiting. The pool's connect, headers and body timeouts bound each request: no
   * per-request timer, which would cost more than the request at thousands a second.
   */
  async roll(die: string, stop?: AbortSignal): Promise<RollOutcome> {
    const result = await this.get(`/roll?die=${encodeURIComponent(die)}`, stop);
    if (!result.answered) {
      if (stop?.aborted === true) return { ok: false, status: 'aborted', detail: 'stopped', traceId: undefined };
      return { ok: false, status: result.status, detail: result.detail, traceId: undefined };
    }
    const { status, body } = result.answer;
    const traceId = problemField(body, 'trace_id');
    const roll = (body as { roll?: unknown } | undefined)?.roll;
    if (status === 200 && typeof roll === 'number') return { ok: true, roll, traceId };
    if (status >= 400) {
      return { ok: false, status: `${status}`, detail: problemField(body, 'detail') ?? `HTTP ${status}`, traceId };
    }
    return { ok: false, status: 'invalid_response', detail: `unexpected answer (HTTP ${status})`, traceId };
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** Closes at once, aborting whatever is still in flight. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }

  private async get(path: string, signal: AbortSignal | undefined): Promise<CallResult> {
    try {
      const response = await this.pool.request({
        method: 'GET',
        path: `${this.basePath}${path}`,
        headers: { accept: 'application/json, application/problem+json' },
        ...(signal === undefined ? {} : { signal }),
      });
      const text = await response.body.text();
      return { answered: true, answer: { status: response.statusCode, body: parseJson(text) } };
    } catch (error) {
      return isTimeout(error) || (signal?.aborted === true && isTimeout(signal.reason))
        ? { answered: false, status: 'timeout', detail: 'no answer in time' }
        : { answered: false, status: 'connection_error', detail: describe(error) };
    }
  }
}
