import type { Server } from 'node:http';
import type { Express } from 'express';
import type { Logger } from 'pino';
import { flushLogs } from '../otel/logger';
import { shutdownTelemetry } from '../otel/sdk-handle';
import { withTimeout } from '../otel/with-timeout';
import { answerClientError } from './client-error';
import { ConfigError } from './config';

/** Kubernetes' default grace period is 30 s, Docker's 10 s: finish well inside both. */
const SHUTDOWN_DEADLINE_MS = 10_000;
const DRAIN_DEADLINE_MS = 7_000;
const TELEMETRY_FLUSH_DEADLINE_MS = 2_000;

export interface RunServerOptions {
  port: number;
  logger: Logger;
  /** Released after the server has stopped serving (connection pools, timers). */
  onStopped?: () => Promise<void>;
  /** Fields for the start-up log line ("die-service started", ...). */
  startupFields?: Record<string, unknown>;
}

function listen(app: Express, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Express 5 passes a listen error to this callback too. A port in use is a
    // setting to change, so it reads like one: a single line, no stack trace.
    const server = app.listen(port, (error?: NodeJS.ErrnoException) => {
      if (error === undefined) resolve(server);
      else if (error.code === 'EADDRINUSE')
        reject(new ConfigError(`PORT ${port} is already in use by another process`));
      else reject(error);
    });
  });
}

/** Set on `app.locals` once shutdown begins; `GET /ready` then answers 503. */
export const SHUTTING_DOWN = 'shuttingDown';

/**
 * Serves `app` until SIGTERM or SIGINT, then shuts down gracefully: stop accepting
 * connections, let in-flight requests finish, flush spans (bounded, since a
 * collector that does not answer must not hold the process), flush logs, exit.
 * Whatever happens, the process is gone within SHUTDOWN_DEADLINE_MS.
 */
export async function runServer(
  app: Express,
  { port, logger, onStopped, startupFields }: RunServerOptions,
): Promise<Server> {
  const server = await listen(app, port);
  server.on('clientError', answerClientError);
  // Idle keep-alive sockets must not outlive an upstream's pool (undici keeps them 4 s).
  server.keepAliveTimeout = 5_000;
  const address = server.address();
  logger.info(
    { port: typeof address === 'object' && address !== null ? address.port : port, ...startupFields },
    'Service started',
  );

  let stopping = false;
  // Runs before Express sees the request: once stopping, every response closes its
  // keep-alive connection, so clients reconnect elsewhere instead of to a dying process.
  server.prependListener('request', (_req, res) => {
    if (stopping) res.setHeader('Connection', 'close');
  });
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    app.locals[SHUTTING_DOWN] = true;
    setTimeout(() => {
      logger.error({ signal }, 'Shutdown deadline passed, exiting');
      void flushLogs().finally(() => process.exit(1));
    }, SHUTDOWN_DEADLINE_MS).unref();

    logger.info({ signal }, 'Shutting down: no new connections, finishing in-flight requests');
    let exitCode = 0;
    try {
      // Also closes idle keep-alive connections (Node 19 and later).
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await withTimeout(closed, DRAIN_DEADLINE_MS);
      server.closeAllConnections();
      await onStopped?.();
      await shutdownTelemetry(TELEMETRY_FLUSH_DEADLINE_MS);
      logger.info('Shutdown complete');
    } catch (error) {
      exitCode = 1;
      logger.error({ error }, 'Shutdown failed');
    } finally {
      await flushLogs();
      process.exit(exitCode);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return server;
}
