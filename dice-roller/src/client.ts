import { type Problem, serverTimingHeader, UnexpectedUpstreamResponse, Upstream } from '@dice-roller/telemetry';

/** What dice-roller answered: a roll, or a problem (unknown die, die failed, its upstream down). */
export type RollAnswer = ({ rolled: true; roll: number } | { rolled: false; status: number; problem: Problem }) & {
  /** dice-roller's Server-Timing header (its own entries and die-service's), for the caller to relay. */
  serverTiming?: string;
};

export interface DiceRollerClientOptions {
  baseUrl: string;
  timeoutMs: number;
}

function isProblem(body: unknown): body is Problem {
  const candidate = body as Partial<Problem> | undefined;
  return (
    typeof candidate?.type === 'string' && typeof candidate.status === 'number' && typeof candidate.detail === 'string'
  );
}

/**
 * The typed client callers use to reach dice-roller. Throws UpstreamFailure when
 * dice-roller cannot be reached or does not answer in time, and
 * UnexpectedUpstreamResponse when its answer is neither a roll nor a problem.
 */
export class DiceRollerClient {
  private readonly upstream: Upstream;

  constructor({ baseUrl, timeoutMs }: DiceRollerClientOptions) {
    this.upstream = new Upstream({ name: 'dice-roller', baseUrl, timeoutMs });
  }

  async roll(die: string): Promise<RollAnswer> {
    const response = await this.upstream.getJson('/roll', { die });
    const body = response.body as { roll?: unknown } | undefined;
    const serverTiming = serverTimingHeader(response.headers);
    const timing = serverTiming === undefined ? {} : { serverTiming };
    if (response.status === 200 && typeof body?.roll === 'number') return { rolled: true, roll: body.roll, ...timing };
    if (response.status >= 400 && isProblem(response.body)) {
      return { rolled: false, status: response.status, problem: response.body, ...timing };
    }
    throw new UnexpectedUpstreamResponse(this.upstream.name, response.status);
  }

  isReachable(): Promise<boolean> {
    return this.upstream.isReachable();
  }

  close(): Promise<void> {
    return this.upstream.close();
  }
}
