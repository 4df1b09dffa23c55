import express, { type Express, type Request, type RequestHandler, type Response, Router } from 'express';
import type { Logger } from 'pino';
import { getActiveSdk } from '../otel/sdk-handle';
import { serviceIdentity } from '../otel/service-identity';
import { errorPath } from './error-path';
import { httpMetricsMiddleware } from './http-metrics';
import { serveMetrics } from './metrics-endpoint';
import { methodNotAllowed, notFoundHandler, ProblemType, sendProblem } from './problem';
import { securityHeaders } from './security-headers';
import { SHUTTING_DOWN } from './server-lifecycle';
import { serverTiming } from './server-timing';
import { nameServerSpanByRoute } from './span-route';

export interface ServiceInfo {
  name: string;
  version: string;
  description: string;
  endpoints: readonly string[];
}

export type ReadinessCheck = () => Promise<{ ready: true } | { ready: false; reason: string }>;

export interface ServiceAppOptions {
  /** What `GET /info` says the service does, beside its name and version. */
  description: string;
  /** The endpoints `GET /info` lists. */
  endpoints: readonly string[];
  /** `GET /` answers like `GET /info` (die-service and dice-roller; the frontend's `/` is its page). */
  infoAtRoot?: boolean;
  /** The service serves a page to browsers (the frontend): helmet's full set of security headers, not an API's. */
  servesPage?: boolean;
  logger: Logger;
  /** `GET /ready`: can this instance serve its purpose right now? */
  readiness: ReadinessCheck;
  /**
   * The service's own routes, each answering GET (and HEAD) and 405 to any other
   * method, mounted between the shared middleware and the error path.
   */
  routes: Record<string, RequestHandler>;
  /** A folder served as static files under a path prefix (the frontend's page assets). */
  staticFiles?: { path: string; folder: string };
  /** Names this service's Server-Timing entries (`dice-roller`, `dice-roller.wait`). */
  serverTimingName: string;
  /** Every problem answered carries the request's `trace_id` (default: only unexpected errors do). */
  traceIdInProblems?: boolean;
}

function operationalRoutes(info: ServiceInfo, readiness: ReadinessCheck): Router {
  const router = Router();
  router
    .route('/health')
    .get((_req, res) => {
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed());
  router
    .route('/ready')
    .get(async (req, res) => {
      // While draining, tell load balancers to send new work elsewhere.
      const result =
        req.app.locals[SHUTTING_DOWN] === true
          ? ({ ready: false, reason: 'shutting down' } as const)
          : await readiness();
      if (result.ready) {
        res.json({ status: 'ready' });
      } else {
        sendProblem(res, { type: ProblemType.notReady, title: 'Not ready', status: 503, detail: result.reason });
      }
    })
    .all(methodNotAllowed());
  router.route('/metrics').get(serveMetrics).all(methodNotAllowed());
  router
    .route('/metrics/otel')
    .get((req: Request, res: Response) => {
      const sdk = getActiveSdk();
      if (sdk === undefined) {
        res.type('text/plain').send('# OpenTelemetry SDK disabled (OTEL_SDK_DISABLED=true)\n');
      } else {
        sdk.serveOtelMetrics(req, res);
      }
    })
    .all(methodNotAllowed());
  router
    .route('/info')
    .get((_req, res) => {
      res.json(info);
    })
    .all(methodNotAllowed());
  return router;
}

/**
 * The Express app every service is built on, so that all three share one order:
 * security headers, operational endpoints (not counted in the RED metrics; all but
 * /info untraced), RED metrics, Server-Timing and traceresponse, the service's
 * routes, then the one error path (problem+json, span status, log line).
 */
export function createServiceApp({
  description,
  endpoints,
  infoAtRoot = false,
  servesPage = false,
  logger,
  readiness,
  routes,
  staticFiles,
  serverTimingName,
  traceIdInProblems = false,
}: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is computed afresh (a roll, a readiness check): a hash of each body
  // to support conditional requests nobody makes costs a SHA-1 per response.
  app.disable('etag');
  // Repeated parameters become arrays, `a[b]=c` stays a literal key: no nested objects.
  app.set('query parser', 'simple');
  app.use(nameServerSpanByRoute());
  app.use(securityHeaders({ servesPage }));
  const info: ServiceInfo = { name: serviceIdentity.name, version: serviceIdentity.version, description, endpoints };
  app.use(operationalRoutes(info, readiness));
  app.use(httpMetricsMiddleware());
  app.use(serverTiming(serverTimingName));
  const serveInfo: RequestHandler = (_req, res) => {
    res.json(info);
  };
  const allRoutes = infoAtRoot ? { '/': serveInfo, ...routes } : routes;
  for (const [path, handler] of Object.entries(allRoutes)) app.route(path).get(handler).all(methodNotAllowed());
  if (staticFiles !== undefined) {
    const files = express.static(staticFiles.folder, { index: false, fallthrough: true });
    app.use(
      staticFiles.path,
      (_req, res, next) => {
        // One route template for the whole folder, never a file's own path.
        res.locals.handler = staticFiles.path;
        next();
      },
      files,
    );
  }
  app.use(notFoundHandler);
  app.use(errorPath({ logger, traceIdInProblems }));
  return app;
}
