import path from 'node:path';
import {
  createServiceApp,
  currentTraceId,
  type Logger,
  methodNotAllowed,
  observeWithExemplar,
  ProblemError,
  ProblemType,
  requestSpan,
  requiredQueryParam,
  sampledTraceId,
  sendProblem,
  serverTiming,
  serverTimingOf,
  serviceIdentity,
  upstreamProblem,
} from '@dice-roller/telemetry';
import { SpanStatusCode } from '@opentelemetry/api';
import type { DiceRollerClient, RollAnswer } from 'dice-roller/client';
import { DIE_IDENTIFIER_RULE, type DieServiceClient } from 'die-service/client';
import express, { type Express, type Request, type Response } from 'express';
import { grafanaLinkTemplates } from './grafana-links';
import { backendRequestDuration, backendRequests, frontendRequests } from './metrics';

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
  'GET /dice',
  'GET /ui-config',
  'GET /info',
  'GET /health',
  'GET /ready',
  'GET /metrics',
  'GET /metrics/otel',
];

/** frontend: the web UI and the public /roll API in front of dice-roller. */
export function createApp({ diceRoller, dieService, logger, grafanaUrl }: FrontendDependencies): Express {
  // A die becomes a metric label value once dice-roller rolled it or reported it
  // failed; anything else a client sends is counted as "unknown".
  const knownDice = new Set<string>();
  const dieLabel = (die: string) => (knownDice.has(die) ? die : 'unknown');
  const linkTemplates = grafanaUrl === undefined ? null : grafanaLinkTemplates(grafanaUrl);

  async function listDice(_req: Request, res: Response): Promise<void> {
    logger.info('Fetching available die types from die service');
    const start = performance.now();
    try {
      const identifiers = await dieService.listDice().finally(() => {
        serverTimingOf(res)?.recordUpstream('die-service', performance.now() - start);
      });
      logger.info({ count: identifiers.length, identifiers }, 'Die list fetched from die service');
      res.json({ identifiers });
    } catch (error) {
      const { problem } = upstreamProblem(error);
      logger.error({ error: (error as Error).message }, 'Die list could not be fetched from die service');
      throw new ProblemError(problem);
    }
  }

  async function roll(req: Request, res: Response): Promise<void> {
    const die = requiredQueryParam(req, 'die', DIE_IDENTIFIER_RULE);
    const traceId = currentTraceId();
    requestSpan()?.setAttribute('die.type', die);
    frontendRequests.inc({ die_type: dieLabel(die), status: 'received' });
    logger.info({ die_type: die }, 'Roll requested');

    const start = performance.now();
    let answer: RollAnswer;
    try {
      answer = await diceRoller.roll(die);
    } catch (error) {
      serverTimingOf(res)?.recordUpstream('dice-roller', performance.now() - start);
      const { outcome, problem } = upstreamProblem(error);
      // The contract's labels: an HTTP status as such, or how the call failed.
      const label = String(outcome);
      backendRequests.inc({ die_type: dieLabel(die), status_code: label });
      observeWithExemplar(
        backendRequestDuration,
        { die_type: dieLabel(die) },
        (performance.now() - start) / 1000,
        sampledTraceId(),
      );
      frontendRequests.inc({ die_type: dieLabel(die), status: typeof outcome === 'number' ? 'error' : outcome });
      requestSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: problem.detail });
      logger.error({ die_type: die, status: label, error: (error as Error).message }, 'Dice roller request failed');
      sendProblem(res, { ...problem, ...(traceId === undefined ? {} : { trace_id: traceId }) });
      return;
    }

    // dice-roller's Server-Timing carries its own entries and die-service's: the
    // frontend's response shows the whole chain.
    serverTimingOf(res)?.recordUpstream('dice-roller', performance.now() - start, answer.serverTiming);
    const statusCode = answer.rolled ? 200 : answer.status;
    if (answer.rolled || answer.problem.type === ProblemType.dieFailed) knownDice.add(die);
    backendRequests.inc({ die_type: dieLabel(die), status_code: String(statusCode) });
    observeWithExemplar(
      backendRequestDuration,
      { die_type: dieLabel(die) },
      (performance.now() - start) / 1000,
      sampledTraceId(),
    );
    requestSpan()?.setAttribute('backend.status_code', statusCode);

    if (answer.rolled) {
      frontendRequests.inc({ die_type: dieLabel(die), status: 'success' });
      requestSpan()?.setAttribute('roll.value', answer.roll);
      logger.info({ die_type: die, roll_value: answer.roll }, 'Roll succeeded');
      res.json({ roll: answer.roll, ...(traceId === undefined ? {} : { trace_id: traceId }) });
      return;
    }
    frontendRequests.inc({ die_type: dieLabel(die), status: 'error' });
    if (statusCode >= 500) requestSpan()?.setStatus({ code: SpanStatusCode.ERROR, message: answer.problem.detail });
    logger.warn({ die_type: die, status_code: statusCode, detail: answer.problem.detail }, 'Roll failed');
    sendProblem(res, {
      ...answer.problem,
      status: statusCode,
      ...(traceId === undefined ? {} : { trace_id: traceId }),
    });
  }

  const info = {
    name: serviceIdentity.name,
    version: serviceIdentity.version,
    description: 'The web UI and public roll API, in front of dice-roller.',
    endpoints: ENDPOINTS,
  };

  return createServiceApp({
    info,
    logger,
    readiness: async () =>
      (await diceRoller.isReachable()) ? { ready: true } : { ready: false, reason: 'dice-roller is not reachable' },
    routes: (app) => {
      app.use(serverTiming('frontend'));
      app
        .route('/')
        .get((_req, res) => {
          res.sendFile(path.join(PUBLIC_DIR, 'index.html'));
        })
        .all(methodNotAllowed());
      app.use(
        '/assets',
        (_req, res, next) => {
          res.locals.handler = '/assets';
          next();
        },
        express.static(path.join(PUBLIC_DIR, 'assets'), { index: false, fallthrough: true }),
      );
      app
        .route('/ui-config')
        .get((_req, res) => {
          res.json({ grafana_url: grafanaUrl ?? null, links: linkTemplates });
        })
        .all(methodNotAllowed());
      app.route('/dice').get(listDice).all(methodNotAllowed());
      app.route('/roll').get(roll).all(methodNotAllowed());
    },
  });
}
