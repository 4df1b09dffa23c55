import { createServiceApp, type Logger, optionalQueryParam, ProblemError, requestSpan } from '@dice-roller/telemetry';
import type { Express, Request, Response } from 'express';
import { DIE_IDENTIFIER_RULE } from './die-identifier';
import { beforeSpecification, deployedSpecification } from './faults';
import { dieListRequests, dieSpecificationsLoaded, dieSpecificationsRequested } from './metrics';
import { unknownDie } from './problems';
import type { DieCatalog } from './specifications-file';

export interface DieServiceDependencies {
  catalog: DieCatalog;
  logger: Logger;
}

export const ENDPOINTS = [
  'GET /dice',
  'GET /dice?identifier={die}',
  'GET /info',
  'GET /health',
  'GET /ready',
  'GET /metrics',
  'GET /metrics/otel',
];

/** die-service: the dice it knows, and the specification of each. */
export function createApp({ catalog, logger }: DieServiceDependencies): Express {
  const identifiers = [...catalog.keys()];
  dieSpecificationsLoaded.set(catalog.size);

  function listDice(res: Response): void {
    dieListRequests.inc();
    requestSpan()?.setAttributes({ 'request.type': 'list', 'die.count': identifiers.length });
    logger.info({ count: identifiers.length }, 'Die list requested');
    res.json({ identifiers });
  }

  async function getDie(identifier: string, res: Response): Promise<void> {
    await beforeSpecification();
    const specification = catalog.get(identifier);
    const found = specification !== undefined;
    dieSpecificationsRequested.inc({ identifier: found ? identifier : 'unknown' });
    requestSpan()?.setAttributes({ 'request.type': 'get', 'die.identifier': identifier, 'die.found': found });
    logger.info({ identifier, found }, 'Die specification requested');
    if (!found) throw new ProblemError(unknownDie(identifier, identifiers));
    res.json({ identifier, specification: await deployedSpecification(specification) });
  }

  return createServiceApp({
    description: 'Serves die specifications (faces and error rate).',
    endpoints: ENDPOINTS,
    infoAtRoot: true,
    logger,
    serverTimingName: 'die-service',
    // Specs are loaded before the app exists: if it serves, it is ready.
    readiness: async () => ({ ready: true }),
    routes: {
      '/dice': async (req: Request, res: Response) => {
        const identifier = optionalQueryParam(req, 'identifier', DIE_IDENTIFIER_RULE);
        if (identifier === undefined) listDice(res);
        else await getDie(identifier, res);
      },
    },
  });
}
