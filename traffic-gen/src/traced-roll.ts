import type { Logger } from '@dice-roller/telemetry';
import { type Attributes, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FrontendClient } from './frontend-client';
import type { Random } from './random';
import type { RollResult, Stats } from './stats';

const tracer = trace.getTracer('traffic-gen');

/**
 * Rolls `die` once, or `batchSize` dice of it at once (GET /roll-async); resolves with
 * the result, or undefined when a forced stop cut the request off.
 */
export type Roll = (die: string, batchSize?: number, attributes?: Attributes) => Promise<RollResult | undefined>;

/** A batch's size: 2 to `max` dice, all sizes alike (a batch of one when `max` is 1). */
export function drawBatchSize(random: Random, max: number): number {
  return random.integer(Math.min(2, max), max);
}

export interface RollerDependencies {
  client: FrontendClient;
  stats: Stats;
  logger: Logger;
  /** Aborted to cut off requests in flight (a second Ctrl-C, or the stop deadline). */
  abort: AbortSignal;
}

/**
 * Each simulated request is the root span of its own trace ("roll fair", or "roll
 * batch fair" with `async.batch_size`; service traffic-gen). The HTTP call runs inside
 * it, so the undici instrumentation adds a client span and a `traceparent` header, and
 * the trace continues in the frontend, dice-roller and die-service.
 */
export function createRoller({ client, stats, logger, abort }: RollerDependencies): Roll {
  return (die, batchSize, attributes = {}) => {
    const kind = batchSize === undefined ? 'single' : 'batch';
    const name = kind === 'single' ? `roll ${die}` : `roll batch ${die}`;
    const batchAttributes = batchSize === undefined ? {} : { 'async.batch_size': batchSize };
    return tracer.startActiveSpan(
      name,
      { root: true, kind: SpanKind.INTERNAL, attributes: { 'die.type': die, ...batchAttributes, ...attributes } },
      async (span) => {
        stats.recordStart();
        const start = performance.now();
        try {
          const outcome =
            batchSize === undefined ? await client.roll(die, abort) : await client.rollBatch(die, batchSize, abort);
          const latencyMs = performance.now() - start;
          if (!outcome.ok && outcome.status === 'aborted') {
            stats.recordAbandoned();
            span.setStatus({ code: SpanStatusCode.ERROR, message: 'stopped by traffic-gen before an answer' });
            return undefined;
          }
          const spanContext = span.spanContext();
          const traceId = trace.isSpanContextValid(spanContext) ? spanContext.traceId : outcome.traceId;
          const result: RollResult = {
            die,
            kind,
            dice: batchSize ?? 1,
            ok: outcome.ok,
            status: outcome.ok ? '200' : outcome.status,
            latencyMs,
            traceId,
          };
          if (outcome.ok) {
            span.setAttribute('roll.value', 'roll' in outcome ? outcome.roll : outcome.total);
          } else {
            span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.status}: ${outcome.detail}` });
          }
          stats.record(result);
          logger.debug(
            {
              die_type: die,
              ...(batchSize === undefined ? {} : { batch_size: batchSize }),
              status: result.status,
              duration_ms: Math.round(latencyMs * 10) / 10,
            },
            outcome.ok ? 'Roll succeeded' : 'Roll failed',
          );
          return result;
        } finally {
          span.end();
        }
      },
    );
  };
}
