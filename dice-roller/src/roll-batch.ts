import type { Logger } from '@dice-roller/telemetry';
import { type Context, context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { DieSpecification } from 'die-service/client';
import { asyncRolls } from './batch-metrics';
import { type RollOptions, rollDie } from './roll';

const tracer = trace.getTracer('dice-roller');

/** One roll of a batch: its place in the batch, when it ran, and the face it landed on. */
export interface BatchRoll {
  index: number;
  /** `performance.now()` when the roll started. */
  startedAt: number;
  durationMs: number;
  /** The face rolled, or undefined when the die failed. */
  value: number | undefined;
}

export interface BatchOptions extends RollOptions {
  logger: Logger;
}

/**
 * Rolls `die` `times` times at once: every roll starts before the first one ends,
 * each with its own random delay and its own chance of failing, so the batch takes
 * about as long as its slowest roll. Each roll runs in its own `roll` span, a child
 * of the span active when the batch starts (dice-roller's server span); its log
 * lines carry that span's ids. Every roll is awaited to its end, failed or not:
 * none is left running when the batch returns.
 */
export async function rollBatch(
  die: string,
  specification: DieSpecification,
  times: number,
  options: BatchOptions,
): Promise<BatchRoll[]> {
  // Captured once: each roll's span gets this parent, whatever context is active
  // when its callback resumes.
  const parent = context.active();
  const settled = await Promise.allSettled(
    Array.from({ length: times }, (_, index) => rollInSpan(die, specification, index, parent, options)),
  );
  // A roll that threw is a bug, not a failed die: rethrown only once every roll has ended.
  return settled.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

function rollInSpan(
  die: string,
  specification: DieSpecification,
  index: number,
  parent: Context,
  { logger, ...rollOptions }: BatchOptions,
): Promise<BatchRoll> {
  // startActiveSpan makes the new span active for everything the callback awaits,
  // so this roll's log lines and timers stay in its own context, apart from its siblings'.
  return tracer.startActiveSpan('roll', { attributes: { 'async.roll_index': index } }, parent, async (span) => {
    const startedAt = performance.now();
    try {
      const outcome = await rollDie(specification, rollOptions);
      const durationMs = performance.now() - startedAt;
      // dice-roller only rolls a die die-service returned, so its name is a bounded label value.
      if (outcome.failed) {
        asyncRolls.inc({ die_type: die, result: 'error' });
        span.setAttribute('die.error', true);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `Roll ${index} of die '${die}' failed` });
        logger.warn({ die_type: die, roll_index: index }, 'Async roll triggered error condition');
        return { index, startedAt, durationMs, value: undefined };
      }
      asyncRolls.inc({ die_type: die, result: 'success' });
      span.setAttributes({ 'die.result': outcome.value, 'die.error': false });
      logger.info({ die_type: die, roll_index: index, roll_value: outcome.value }, 'Async roll completed');
      return { index, startedAt, durationMs, value: outcome.value };
    } finally {
      span.end();
    }
  });
}
