import {
  type Logger,
  observeWithExemplar,
  ProblemType,
  recordServerTimingPart,
  sampledTraceId,
} from '@dice-roller/telemetry';
import { type Context, context, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { DieSpecification } from 'die-service/client';
import { asyncRollBatchSize, asyncRollDuration, asyncRolls, asyncRollsInProgress } from './batch-metrics';
import { blockEventLoopIfFaulty, loadedRoll } from './faults';
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

/** A batch either landed every roll, or names the rolls whose die failed. */
export type Batch = { rolls: BatchRoll[] } & (
  | { failed: false; values: number[]; total: number }
  | { failed: true; failedRolls: number[] }
);

export interface BatchOptions extends RollOptions {
  logger: Logger;
}

/**
 * Rolls `die` `times` times at once: every roll starts before the first one ends,
 * each with its own random delay and its own chance of failing, so the batch takes
 * about as long as its slowest roll. Each roll runs in its own `roll` span, a child
 * of the span active when the batch starts (dice-roller's server span); its log
 * lines carry that span's ids. Every roll is awaited to its end, failed or not:
 * none is left running when the batch returns. The batch's own metrics and log
 * lines are recorded here; what to answer is the caller's business.
 */
export async function rollBatch(
  die: string,
  specification: DieSpecification,
  times: number,
  options: BatchOptions,
): Promise<Batch> {
  const { logger } = options;
  logger.info({ die_type: die, times }, 'Async roll batch started');
  asyncRollBatchSize.observe(times);
  asyncRollsInProgress.inc();
  const started = performance.now();
  // Captured once: each roll's span gets this parent, whatever context is active
  // when its callback resumes.
  const parent = context.active();
  const rolls = await settleAll(
    Array.from({ length: times }, (_, index) => rollInSpan(die, specification, index, parent, options)),
  ).finally(() => asyncRollsInProgress.dec());
  const durationMs = performance.now() - started;
  observeWithExemplar(asyncRollDuration, {}, durationMs / 1000, sampledTraceId());
  recordRollTimings(rolls);

  const failedRolls = rolls.filter((roll) => roll.value === undefined).map((roll) => roll.index);
  if (failedRolls.length > 0) {
    logger.error({ die_type: die, failed_rolls: failedRolls }, 'Async roll batch failed');
    return { rolls, failed: true, failedRolls };
  }
  const values = rolls.map((roll) => roll.value as number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const duration_ms = Math.round(durationMs * 100) / 100;
  logger.info({ die_type: die, total, rolls: values, duration_ms }, 'Async roll batch completed');
  return { rolls, failed: false, values, total };
}

/** Each roll in the response's Server-Timing too, in order, so that a page can draw them side by side. */
function recordRollTimings(rolls: BatchRoll[]): void {
  for (const roll of rolls) {
    const label = roll.value === undefined ? `roll ${roll.index} (failed)` : `roll ${roll.index}`;
    recordServerTimingPart(`roll.${roll.index}`, label, roll.startedAt, roll.durationMs);
  }
}

/**
 * Like Promise.all, but waits for every promise to settle before it rejects:
 * a roll that threw (a bug, not a failed die) never leaves its siblings running.
 */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
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
  options: BatchOptions,
): Promise<BatchRoll> {
  // startActiveSpan makes the new span active for everything the callback awaits,
  // so this roll's log lines and timers stay in its own context, apart from its siblings'.
  return tracer.startActiveSpan('roll', { attributes: { 'async.roll_index': index } }, parent, async (span) => {
    const startedAt = performance.now();
    try {
      const value = await landRoll(die, specification, index, span, options);
      // Measured up to the span's end, so the page's journey and the trace show the same time.
      return { index, startedAt, durationMs: performance.now() - startedAt, value };
    } finally {
      span.end();
    }
  });
}

/** One roll of the batch inside its span: the face it landed on, or undefined when the die failed. */
async function landRoll(
  die: string,
  specification: DieSpecification,
  index: number,
  span: Span,
  { logger, ...rollOptions }: BatchOptions,
): Promise<number | undefined> {
  await blockEventLoopIfFaulty();
  const outcome = await rollDie(specification, rollOptions);
  // dice-roller only rolls a die die-service returned, so its name is a bounded label value.
  if (outcome.failed) {
    asyncRolls.inc({ die_type: die, result: 'error' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: `Roll ${index} of die '${die}' failed` });
    span.setAttributes({ 'die.error': true, 'error.type': ProblemType.dieFailed });
    logger.warn({ die_type: die, roll_index: index }, 'Async roll triggered error condition');
    return undefined;
  }
  const value = await loadedRoll(die, specification, outcome.value);
  asyncRolls.inc({ die_type: die, result: 'success' });
  span.setAttributes({ 'die.result': value, 'die.error': false });
  logger.info({ die_type: die, roll_index: index, roll_value: value }, 'Async roll completed');
  return value;
}
