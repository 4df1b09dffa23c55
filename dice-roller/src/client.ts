import {
  type CallMetrics,
  UpstreamClient,
  type UpstreamClientOptions,
  type UpstreamResponse,
} from '@dice-roller/telemetry';

export { MAX_BATCH_SIZE, requiredBatchSize } from './batch-size';

/** A batch as dice-roller answers it (`GET /roll-async`): every roll, their total and their count. */
export interface RolledBatch {
  total: number;
  rolls: number[];
  count: number;
}

function isRolledBatch(body: unknown): body is RolledBatch {
  const candidate = body as Partial<Record<keyof RolledBatch, unknown>> | undefined;
  return (
    typeof candidate?.total === 'number' &&
    typeof candidate.count === 'number' &&
    Array.isArray(candidate.rolls) &&
    candidate.rolls.every((value) => typeof value === 'number')
  );
}

/**
 * The typed client callers use to reach dice-roller. Returns the value rolled, or
 * throws: UpstreamProblem (an unknown die, a die that failed, dice-roller's own
 * upstream down: passed on as dice-roller said it), UpstreamFailure (dice-roller
 * unreachable or too slow) or UnexpectedUpstreamResponse (anything else).
 */
export class DiceRollerClient extends UpstreamClient {
  constructor(options: UpstreamClientOptions) {
    super('dice-roller', options);
  }

  /** Rolls die `die`; `metrics` are the caller's for this call. */
  roll(die: string, metrics?: CallMetrics<number>): Promise<number> {
    return this.upstream.get('/roll', { die }, (response) => this.rollOf(response), metrics);
  }

  /** Rolls die `die` `times` times at once (a failed roll fails the batch); `metrics` are the caller's. */
  rollBatch(die: string, times: number, metrics?: CallMetrics<RolledBatch>): Promise<RolledBatch> {
    const query = { die, times: String(times) };
    return this.upstream.get('/roll-async', query, (response) => this.batchOf(response), metrics);
  }

  private batchOf(response: UpstreamResponse): RolledBatch {
    const { status, body } = response;
    if (status === 200 && isRolledBatch(body)) return { total: body.total, rolls: body.rolls, count: body.count };
    return this.refuse(response, anyErrorStatus);
  }

  private rollOf(response: UpstreamResponse): number {
    const roll = (response.body as { roll?: unknown } | undefined)?.roll;
    if (response.status === 200 && typeof roll === 'number') return roll;
    return this.refuse(response, anyErrorStatus);
  }
}

/** dice-roller answers every error of its contract as a problem, with the status to pass on. */
function anyErrorStatus(status: number): boolean {
  return status >= 400;
}
