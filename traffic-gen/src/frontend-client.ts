import { Upstream, UpstreamFailure, type UpstreamResponse } from '@dice-roller/telemetry';

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

/** A batch (`GET /roll-async`): every roll and their total, or how it failed (a roll that failed fails the batch). */
export type BatchOutcome =
  | { ok: true; rolls: number[]; total: number; traceId: string | undefined }
  | { ok: false; status: FailureStatus; detail: string; traceId: string | undefined }
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

/** A call that got no answer; `traceId` is there so that each is a RollOutcome as it is. */
type NoAnswer = { ok: false; status: 'timeout' | 'connection_error'; detail: string; traceId: undefined };
type Aborted = { ok: false; status: 'aborted'; detail: string; traceId: undefined };

const NO_ANSWER_IN_TIME: NoAnswer = { ok: false, status: 'timeout', detail: 'no answer in time', traceId: undefined };

const ABORTED = Symbol('aborted');

/**
 * Resolves with `call`, or with ABORTED as soon as `signal` is. The services' upstream
 * client ends each call at its own deadline and has no way to cut one short; traffic-gen
 * must also stop waiting at once on a second Ctrl-C, and sooner than that deadline in
 * its start-up check. The request left behind ends at its deadline or with the process,
 * which exits right after a forced stop.
 */
function unlessAborted<T>(call: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof ABORTED> {
  if (signal === undefined) return call;
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The innermost message of an error chain ("connect ECONNREFUSED 127.0.0.1:8105"). */
function describe(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

function textField(body: unknown, name: 'detail' | 'trace_id' | 'name'): string | undefined {
  const value = field(body, name);
  return typeof value === 'string' ? value : undefined;
}

/** A 4xx or 5xx: its status, the problem's detail, and the trace id the frontend adds. */
function problem({ status, body }: UpstreamResponse) {
  const detail = textField(body, 'detail') ?? `HTTP ${status}`;
  return { ok: false, status: `${status}`, detail, traceId: textField(body, 'trace_id') } as const;
}

/**
 * The typed client for the frontend's public API. It is the services' own upstream
 * client (one keep-alive pool, a deadline on every call, an `error.type` on a failed
 * client span), so traffic-gen's calls are made and traced as the services' calls
 * are; what it adds is the outcome as a value (a roll, or how it failed), since a
 * failed roll is data to count here, not an error to pass on.
 */
export class FrontendClient {
  private readonly upstream: Upstream;

  constructor(options: FrontendClientOptions) {
    this.upstream = new Upstream({
      name: 'frontend',
      baseUrl: options.baseUrl,
      timeoutMs: options.timeoutMs,
      connections: options.connections,
    });
  }

  /** GET /info: the name the service at the base URL gives itself. `signal` stops waiting sooner. */
  async info(signal?: AbortSignal): Promise<ServiceInfo> {
    const answer = await this.get('/info', undefined, signal, (response): ServiceInfo => {
      if (response.status !== 200) return problem(response);
      return { ok: true, name: textField(response.body, 'name') };
    });
    return isAborted(answer) ? NO_ANSWER_IN_TIME : answer;
  }

  /** GET /dice: the dice the system offers, or why it could not say. `signal` stops waiting sooner. */
  async listDice(signal?: AbortSignal): Promise<DiceListing> {
    const answer = await this.get('/dice', undefined, signal, (response): DiceListing => {
      const identifiers = field(response.body, 'identifiers');
      if (response.status === 200 && Array.isArray(identifiers) && identifiers.every((id) => typeof id === 'string')) {
        return { ok: true, identifiers };
      }
      if (response.status !== 200) return problem(response);
      return { ok: false, status: 'invalid_response', detail: 'GET /dice answered 200 without a list of dice' };
    });
    return isAborted(answer) ? NO_ANSWER_IN_TIME : answer;
  }

  /** GET /roll?die=...; `stop` cuts the wait short when traffic-gen stops without waiting. */
  async roll(die: string, stop?: AbortSignal): Promise<RollOutcome> {
    const answer = await this.get('/roll', { die }, stop, (response): RollOutcome => {
      const traceId = textField(response.body, 'trace_id');
      const roll = field(response.body, 'roll');
      if (response.status === 200 && typeof roll === 'number') return { ok: true, roll, traceId };
      if (response.status >= 400) return problem(response);
      return {
        ok: false,
        status: 'invalid_response',
        detail: `unexpected answer (HTTP ${response.status})`,
        traceId,
      };
    });
    return answer;
  }

  /** GET /roll-async?die=...&times=...: `times` rolls of `die` at once; `stop` as for roll(). */
  async rollBatch(die: string, times: number, stop?: AbortSignal): Promise<BatchOutcome> {
    return this.get('/roll-async', { die, times: String(times) }, stop, (response): BatchOutcome => {
      const traceId = textField(response.body, 'trace_id');
      const rolls = field(response.body, 'rolls');
      const total = field(response.body, 'total');
      const valid = Array.isArray(rolls) && rolls.length === times && rolls.every((roll) => typeof roll === 'number');
      if (response.status === 200 && valid && typeof total === 'number') return { ok: true, rolls, total, traceId };
      if (response.status >= 400) return problem(response);
      return { ok: false, status: 'invalid_response', detail: `unexpected answer (HTTP ${response.status})`, traceId };
    });
  }

  /**
   * One call, its outcome as a value: what `interpret` made of the answer, or a
   * timeout, a connection error, or `aborted` when `signal` stopped the wait.
   */
  private async get<T>(
    path: string,
    query: Record<string, string> | undefined,
    signal: AbortSignal | undefined,
    interpret: (response: UpstreamResponse) => T,
  ): Promise<T | NoAnswer | Aborted> {
    try {
      const answer = await unlessAborted(this.upstream.get(path, query, interpret), signal);
      return answer === ABORTED ? { ok: false, status: 'aborted', detail: 'stopped', traceId: undefined } : answer;
    } catch (error) {
      if (!(error instanceof UpstreamFailure)) throw error;
      if (error.kind === 'timeout') return NO_ANSWER_IN_TIME;
      return { ok: false, status: 'connection_error', detail: describe(error.cause), traceId: undefined };
    }
  }
}

/** In the start-up check an aborted wait is its own deadline passing: a timeout. */
function isAborted<T>(answer: T | Aborted): answer is Aborted {
  return (answer as Partial<Aborted>).status === 'aborted';
}
