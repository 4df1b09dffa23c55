import {
  createServiceApp,
  type Logger,
  methodNotAllowed,
  observeWithExemplar,
  ProblemError,
  ProblemType,
  requestSpan,
  requiredQueryParam,
  sampledTraceId,
  serverTiming,
  serverTimingOf,
  serviceIdentity,
  upstreamProblem,
} from '@dice-roller/telemetry';
import { SpanStatusCode } from '@opentelemetry/api';
import { DIE_IDENTIFIER_RULE, type DieServiceClient, type DieSpecification } from 'die-service/client';
import type { Express, Request, Response } from 'express';
import { diceRolls, diceRollValue, dieServiceRequestDuration, dieServiceRequests } from './metrics';
import { rollDie } from './roll';

export interface DiceRollerDependencies {
  dieService: DieServiceClient;
  logger: Logger;
  maxDelayMs: number;
  /** Uniform on [0, 1); tests inject one to force a face or a failure. */
  random?: () => number;
}

export const ENDPOINTS = [
  'GET /roll?die={die}',
  'GET /info',
  'GET /health',
  'GET /ready',
  'GET /metrics',
  'GET /metrics/otel',
];

/** dice-roller: fetches a die's specification from die-service on every roll, then rolls it. */
export function createApp({ dieService, logger, maxDelayMs, random }: DiceRollerDependencies): Express {
  // A die becomes a metric label value only once die-service has vouched for it,
  // so made-up names all count as "unknown" and cannot create new series.
  const knownDice = new Set<string>();
  const dieLabel = (die: string) => (knownDice.has(die) ? die : 'unknown');

  async function fetchSpecification(die: string, res: Response): Promise<DieSpecification> {
    logger.info({ identifier: die }, 'Querying die service for specification');
    const start = performance.now();
    const record = (status: string, upstreamServerTiming?: string) => {
      const elapsedMs = performance.now() - start;
      dieServiceRequests.inc({ identifier: dieLabel(die), status });
      observeWithExemplar(dieServiceRequestDuration, {}, elapsedMs / 1000, sampledTraceId());
      serverTimingOf(res)?.recordUpstream('die-service', elapsedMs, upstreamServerTiming);
    };
    let lookup: Awaited<ReturnType<DieServiceClient['getSpecification']>>;
    try {
      lookup = await dieService.getSpecification(die);
    } catch (error) {
      const { outcome, problem } = upstreamProblem(error);
      // The contract's labels: error_<http code>, timeout or connection_error.
      const status = typeof outcome === 'number' ? `error_${outcome}` : outcome;
      record(status);
      logger.error({ identifier: die, status, error: (error as Error).message }, 'Die service request failed');
      throw new ProblemError(problem);
    }
    if (!lookup.found) {
      record('error_404', lookup.serverTiming);
      logger.warn({ identifier: die, available: lookup.available }, 'Die service does not know this die');
      throw new ProblemError({
        type: ProblemType.unknownDie,
        title: 'Unknown die',
        status: 404,
        detail: `Die '${die}' not found`,
        available: lookup.available,
      });
    }
    knownDice.add(die);
    record('success', lookup.serverTiming);
    logger.info(
      { identifier: die, faces: lookup.specification.faces, error_rate: lookup.specification.error_rate },
      'Die specification retrieved from service',
    );
    return lookup.specification;
  }

  async function roll(req: Request, res: Response): Promise<void> {
    const die = requiredQueryParam(req, 'die', DIE_IDENTIFIER_RULE);
    requestSpan()?.setAttribute('die.type', die);
    const specification = await fetchSpecification(die, res);
    requestSpan()?.setAttributes({ 'die.faces': specification.faces, 'die.error_rate': specification.error_rate });

    const outcome = await rollDie(specification, { maxDelayMs, ...(random === undefined ? {} : { random }) });
    if (outcome.failed) {
      const detail = `Die '${die}' failed!`;
      diceRolls.inc({ die_type: dieLabel(die), result: 'error' });
      requestSpan()?.setAttribute('die.error', true).setStatus({ code: SpanStatusCode.ERROR, message: detail });
      logger.error({ die_type: die }, detail);
      throw new ProblemError({ type: ProblemType.dieFailed, title: 'Die failed', status: 500, detail, die });
    }
    diceRolls.inc({ die_type: dieLabel(die), result: 'success' });
    diceRollValue.observe({ die_type: dieLabel(die) }, outcome.value);
    requestSpan()?.setAttributes({ 'die.result': outcome.value, 'die.error': false });
    logger.info({ die_type: die, roll_value: outcome.value }, 'Die rolled');
    res.json({ roll: outcome.value });
  }

  const info = {
    name: serviceIdentity.name,
    version: serviceIdentity.version,
    description: 'Rolls a die: fetches its specification from die-service, waits, then fails or returns a face.',
    endpoints: ENDPOINTS,
  };

  return createServiceApp({
    info,
    logger,
    readiness: async () =>
      (await dieService.isReachable()) ? { ready: true } : { ready: false, reason: 'die-service is not reachable' },
    routes: (app) => {
      app.use(serverTiming('dice-roller'));
      app
        .route('/')
        .get((_req, res) => {
          res.json(info);
        })
        .all(methodNotAllowed());
      app.route('/roll').get(roll).all(methodNotAllowed());
    },
  });
}
