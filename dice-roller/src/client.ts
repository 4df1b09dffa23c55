import {
  type CallMetrics,
  isProblem,
  UnexpectedUpstreamResponse,
  Upstream,
  UpstreamProblem,
  type UpstreamResponse,
} from '@dice-roller/telemetry';

export interface DiceRollerClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

/**
 * The typed client callers use to reach dice-roller. Returns the value rolled, or
 * throws: UpstreamProblem (an unknown die, a die that failed, dice-roller's own
 * upstream down: passed on as dice-roller said it), UpstreamFailure (dice-roller
 * unreachable or too slow) or UnexpectedUpstreamResponse (anything else).
 */
export class DiceRollerClient {
  private readonly upstream: Upstream;

  constructor({ baseUrl, timeoutMs }: DiceRollerClientOptions) {
    this.upstream = new Upstream({ name: 'dice-roller', baseUrl, timeoutMs });
  }

  /** Rolls die `die`; `metrics` are the caller's for this call. */
  roll(die: string, metrics?: CallMetrics<number>): Promise<number> {
    return this.upstream.get('/roll', { die }, (response) => this.rollOf(response), metrics);
  }

  private rollOf({ status, body }: UpstreamResponse): number {
    const roll = (body as { roll?: unknown } | undefined)?.roll;
    if (status === 200 && typeof roll === 'number') return roll;
    if (status >= 400 && isProblem(body)) throw new UpstreamProblem(this.upstream.name, { ...body, status });
    throw new UnexpectedUpstreamResponse(this.upstream.name, status);
  }

  isReachable(): Promise<boolean> {
    return this.upstream.isReachable();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
