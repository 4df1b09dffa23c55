import path from 'node:path';
import {
  createServiceApp,
  KnownValues,
  type Logger,
  requestSpan,
  requiredQueryParam,
  UpstreamFailure,
  UpstreamProblem,
  withTraceId,
} from '@dice-roller/telemetry';
import { type DiceRollerClient, type RolledBatch, requiredBatchSize } from 'dice-roller/client';
import { DIE_IDENTIFIER_RULE, type DieServiceClient } from 'die-service/client';
import type { Express, Request, Response } from 'express';
import { asyncRollRequests } from './batch-metrics';
import { listActiveFaults } from './faults';
import { grafanaLinkTemplates } from './grafana-links';
import { frontendRequests, rollCall } from './metrics';

export interface FrontendDependencies {
  diceRoller: DiceRollerClient;
  dieService: DieServiceClient;
  logger: Logger;
  /** Where Grafana answers for the browser, to link a roll to its trace and logs. */
  grafanaUrl?: string | undefined;
}

export const PUBLIC_DIR = path.join(__dirname, '..', 'public');

export const ENDPOINTS = [
  'GET / (the web UI)',
  'GET /roll?die={die}',
  'GET /roll-async?die={die}&times={1..20}',
  'GET /dice',
  'GET /ui-config',
  'GET /faults',
  'GET /info',
  'GET /health',
  'GET /ready',
  'GET /metrics',
  'GET /metrics/otel',
];

/** frontend: the web UI and the public /roll API in front of dice-roller. */
export function createApp({ diceRoller, dieService, logger, grafanaUrl }: FrontendDependencies): Express {
  const linkTemplates = grafanaUrl === undefined ? null : grafanaLinkTemplates(grafanaUrl);
  // Label values for the dice dice-roller has rolled or reported failed; any other name is "unknown".
  const knownDice = new KnownValues();

  async function listDice(_req: Request, res: Response): Promise<void> {
    logger.info('Fetching available die types from die service');
    const identifiers = await dieService.listDice();
    logger.info({ count: identifiers.length, identifiers }, 'Die list fetched from die service');
    res.json({ identifiers });
  }

  async function roll(req: Request, res: Response): Promise<void> {
    const die = requiredQueryParam(req, 'die', DIE_IDENTIFIER_RULE);
    requestSpan()?.setAttribute('die.type', die);
    frontendRequests.inc({ die_type: knownDice.label(die), status: 'received' });
    logger.info({ die_type: die }, 'Roll requested');
    let value: number;
    try {
      value = await diceRoller.roll(die, rollCall(die, knownDice));
    } catch (error) {
      // Thrown on: the error path relays dice-roller's problem (its status and
      // detail, with our trace_id), or answers 503/504 when dice-roller failed us.
      if (error instanceof UpstreamProblem) requestSpan()?.setAttribute('backend.status_code', error.problem.status);
      const status = error instanceof UpstreamFailure ? error.kind : 'error';
      frontendRequests.inc({ die_type: knownDice.label(die), status });
      throw error;
    }
    requestSpan()?.setAttributes({ 'backend.status_code': 200, 'roll.value': value });
    frontendRequests.inc({ die_type: knownDice.label(die), status: 'success' });
    logger.info({ die_type: die, roll_value: value }, 'Roll succeeded');
    res.json(withTraceId({ roll: value }));
  }

  /** A batch of `times` rolls of one die, which dice-roller rolls side by side. */
  async function rollAsync(req: Request, res: Response): Promise<void> {
    const die = requiredQueryParam(req, 'die', DIE_IDENTIFIER_RULE);
    const times = requiredBatchSize(req);
    requestSpan()?.setAttributes({ 'die.type': die, 'async.batch_size': times });
    // Counted once `times` is known to be 1 to 20: no request can add a label value.
    asyncRollRequests.inc({ batch_size: String(times) });
    logger.info({ die_type: die, times }, 'Roll batch requested');
    let batch: RolledBatch;
    try {
      batch = await diceRoller.rollBatch(die, times, rollCall(die, knownDice));
    } catch (error) {
      // Thrown on, as for /roll: the error path relays dice-roller's problem or answers 503/504.
      if (error instanceof UpstreamProblem) requestSpan()?.setAttribute('backend.status_code', error.problem.status);
      throw error;
    }
    requestSpan()?.setAttributes({ 'backend.status_code': 200, 'async.total_result': batch.total });
    logger.info({ die_type: die, times, total: batch.total }, 'Roll batch succeeded');
    res.json(withTraceId(batch));
  }

  return createServiceApp({
    description: 'The web UI and public roll API, in front of dice-roller.',
    endpoints: ENDPOINTS,
    logger,
    serverTimingName: 'frontend',
    // People read these answers: every problem carries the trace id to look up.
    traceIdInProblems: true,
    readiness: async () =>
      (await diceRoller.isReachable()) ? { ready: true } : { ready: false, reason: 'dice-roller is not reachable' },
    routes: {
      '/': (_req, res) => {
        res.sendFile(path.join(PUBLIC_DIR, 'index.html'));
      },
      '/ui-config': (_req, res) => {
        res.json({ grafana_url: grafanaUrl ?? null, links: linkTemplates });
      },
      '/dice': listDice,
      '/roll': roll,
      '/roll-async': rollAsync,
      '/faults': listActiveFaults,
    },
    servesPage: true,
    staticFiles: { path: '/assets', folder: path.join(PUBLIC_DIR, 'assets') },
  });
}
