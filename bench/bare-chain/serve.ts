/**
 * What both yardstick servers share besides their route: GET /health, GET /__lag
 * (the p99 event-loop delay since the previous call, measured like prom-client
 * does), listening on 127.0.0.1:PORT and stopping on SIGTERM or SIGINT.
 */
import type { Server } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Answer, json } from './roles';

const loopDelay = monitorEventLoopDelay();
loopDelay.enable();

/** A request's URL as its path and its query. */
export function splitUrl(url: string): { pathname: string; query: URLSearchParams } {
  const mark = url.indexOf('?');
  return mark === -1
    ? { pathname: url, query: new URLSearchParams() }
    : { pathname: url.slice(0, mark), query: new URLSearchParams(url.slice(mark + 1)) };
}

/** The answer to an operational path, or undefined for any other path. */
export function operationalAnswer(pathname: string): Answer | undefined {
  if (pathname === '/health') return json(200, { status: 'ok' });
  if (pathname === '/__lag') {
    const p99Seconds = loopDelay.percentile(99) / 1e9;
    loopDelay.reset();
    return json(200, { p99_seconds: p99Seconds });
  }
  return undefined;
}

export function listen(server: Server, role: string): void {
  const port = Number(process.env.PORT ?? 0);
  server.keepAliveTimeout = 5_000;
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    console.log(JSON.stringify({ role, port: typeof address === 'object' && address ? address.port : port }));
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      server.close();
      server.closeAllConnections();
      process.exit(0);
    });
  }
}
