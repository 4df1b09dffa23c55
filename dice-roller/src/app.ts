import {
  createServiceApp,
  KnownValues,
  type Logger,
  ProblemError,
  ProblemType,
  requestSpan,
  requiredQueryParam,
} from '@dice-roller/telemetry';
import { DIE_IDENTIFIER_RULE, type DieServiceClient, type DieSpecification } from 'die-service/client';
import type { Express, Request, Response } from 'express';
import { requiredBatchSize } from './batch-size';
import { blockEventLoopIfFaulty, loadedRoll } from './faults';
import { diceRolls, diceRollValue, specificationCall } from './metrics';
import { rollDie } from './roll';
import { rollBatch } from './roll-batch';

export interface DiceRollerDependencies {
  dieService: DieServiceClient;
  logger: Logger;
  maxDelayMs: number;
  /** Uniform on [0, 1); tests inject one to force a face or a failure. */
  random?: () => number;
}

export const ENDPOINTS = [
  'GET /roll?die={die}',
  'GET /roll-async?die={die}&times={1..20}',
  'GET /info',
  'GET /health',
  'GET /ready',
  'GET /metrics',
  'GET /metrics/otel',
];

/** dice-roller: fetches a die's specification from die-service on every roll, then rolls it. */
export function createApp({ dieService, logger, maxDelayMs, random }: DiceRollerDependencies): Express {
  // Label values for the dice die-service has vouched for; any other name is "unknown".
  const knownDice = new KnownValues();

  /** The die's specification, from one call to die-service, on the span and in the log. */
  async function fetchSpecification(die: string): Promise<DieSpecification> {
    logger.info({ identifier: die }, 'Querying die service for specification');
    // An unknown die (404) or die-service down or slow (503, 504) is thrown on to the error path.
    const specification = await dieService.getSpecification(die, specificationCall(die, knownDice));
    const { faces, error_rate } = specification;
    logger.info({ identifier: die, faces, error_rate }, 'Die specification retrieved from service');
    requestSpan()?.setAttributes({ 'die.faces': faces, 'die.error_rate': error_rate });
    return specification;
  }

  async function roll(req: Request, res: Response): Promise<void> {
    const die = requiredQueryParam(req, 'die', DIE_IDENTIFIER_RULE);
    requestSpan()?.setAttribute('die.type', die);
    const specification = await fetchSpecification(die);

    await blockEventLoopIfFaulty();
    const outcome = await rollDie(specification, { maxDelayMs, ...(random === undefined ? {} : { random }) });
    if (outcome.failed) {
      diceRolls.inc({ die_type: knownDice.label(die), result: 'error' });
      requestSpan()?.setAttribute('die.error', true);
      const detail = `Die '${die}' failed!`;
      const problem = { type: ProblemType.dieFailed, title: 'Die failed', status: 500, detail, die };
      throw new ProblemError(problem, { die_type: die });
    }
    const value = await loadedRoll(die, specification, outcome.value);
    diceRolls.inc({ die_type: knownDice.label(die), result: 'success' });
    diceRollValue.observe({ die_type: knownDice.label(die) }, value);
    requestSpan()?.setAttributes({ 'die.result': value, 'die.error': false });
    logger.info({ die_type: die, roll_value: value }, 'Die rolled');
    res.json({ roll: value });
  }

  /** `times` rolls of one die at once, after one specification fetch for the whole batch. */
  async function rollAsync(req: Request, res: Response): Promise<void> {
    const die = requiredQueryParam(req, 'die', DIE_IDENTIFIER_RULE);
    const times = requiredBatchSize(req);
    requestSpan()?.setAttributes({ 'die.type': die, 'async.batch_size': times });
    const specification = await fetchSpecification(die);

    const batch = await rollBatch(die, specification, times, {
      logger,
      maxDelayMs,
      ...(random === undefined ? {} : { random }),
    });
    if (batch.failed) {
      const { failedRolls } = batch;
      const detail = `${failedRolls.length} of ${times} rolls of die '${die}' failed`;
      const problem = { type: ProblemType.dieFailed, title: 'Die failed', status: 500, detail, die };
      throw new ProblemError({ ...problem, failed_rolls: failedRolls }, { die_type: die, failed_rolls: failedRolls });
    }
    requestSpan()?.setAttribute('async.total_result', batch.total);
    res.json({ total: batch.total, rolls: batch.values, count: batch.values.length });
  }

  return createServiceApp({
    description: 'Rolls a die: fetches its specification from die-service, waits, then fails or returns a face.',
    endpoints: ENDPOINTS,
    infoAtRoot: true,
    logger,
    serverTimingName: 'dice-roller',
    readiness: async () =>
      (await dieService.isReachable()) ? { ready: true } : { ready: false, reason: 'die-service is not reachable' },
    routes: {
      '/roll': roll,
      '/roll-async': rollAsync,
    },
  });
}
