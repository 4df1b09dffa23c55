/**
 * The yardstick (variant 3 of the benchmark): the same three-hop chain as the
 * project, frontend -> dice-roller -> die-service, with the same JSON responses,
 * but on bare `node:http` servers and undici keep-alive pools, without Express,
 * telemetry or logs. What it reaches is the floor this machine sets for three
 * Node.js processes passing a request along over loopback.
 *
 *   node bench/dist/bare-chain/server.js die|roller|frontend
 *
 * Environment: PORT, UPSTREAM_URL (roller, frontend), ROLL_DELAY_MAX_MS (roller).
 * Besides its role's route, each server answers GET /health and GET /__lag (the
 * p99 event-loop delay since the previous call, measured like prom-client does).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

interface DieSpecification {
  faces: number[];
  error_rate: number;
}

// Compiled to bench/dist/bench/bare-chain/.
const SPECIFICATIONS_FILE = path.resolve(__dirname, '..', '..', '..', '..', 'die-service', 'die_specifications.json');
const UPSTREAM_TIMEOUT_MS = 5_000;

const role = process.argv[2];
const port = Number(process.env.PORT ?? 0);
const rollDelayMaxMs = Number(process.env.ROLL_DELAY_MAX_MS ?? 1000);

const loopDelay = monitorEventLoopDelay();
loopDelay.enable();

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function problem(res: ServerResponse, status: number, detail: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ type: 'urn:bench:problem', title: 'Problem', status, detail, ...extra });
  send(res, status, body, 'application/problem+json; charset=utf-8');
}

function splitUrl(url: string | undefined): { pathname: string; query: URLSearchParams } {
  const raw = url ?? '/';
  const mark = raw.indexOf('?');
  return mark === -1
    ? { pathname: raw, query: new URLSearchParams() }
    : { pathname: raw.slice(0, mark), query: new URLSearchParams(raw.slice(mark + 1)) };
}

/** One keep-alive pool per upstream, created once; unlimited connections, as the load needs. */
function upstreamPool(): { pool: Pool; getJson: (pathAndQuery: string) => Promise<{ status: number; body: unknown }> } {
  const url = process.env.UPSTREAM_URL;
  if (url === undefined) throw new Error(`${role} needs UPSTREAM_URL`);
  const pool = new Pool(url, {
    keepAliveTimeout: 4_000,
    headersTimeout: UPSTREAM_TIMEOUT_MS,
    bodyTimeout: UPSTREAM_TIMEOUT_MS,
  });
  return {
    pool,
    getJson: async (pathAndQuery) => {
      const response = await pool.request({ method: 'GET', path: pathAndQuery });
      return { status: response.statusCode, body: await response.body.json() };
    },
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>;

function dieRoutes(): Record<string, Handler> {
  const catalog = new Map(Object.entries(JSON.parse(readFileSync(SPECIFICATIONS_FILE, 'utf8')) as object)) as Map<
    string,
    DieSpecification
  >;
  const identifiers = [...catalog.keys()];
  return {
    '/dice': (_req, res, query) => {
      const identifier = query.get('identifier');
      if (identifier === null) return send(res, 200, JSON.stringify({ identifiers }));
      const specification = catalog.get(identifier);
      if (specification === undefined) {
        return problem(res, 404, `Die '${identifier}' not found`, { available: identifiers });
      }
      send(res, 200, JSON.stringify({ identifier, specification }));
    },
  };
}

function rollerRoutes(): Record<string, Handler> {
  const dieService = upstreamPool();
  return {
    '/roll': async (_req, res, query) => {
      const die = query.get('die') ?? '';
      const answer = await dieService.getJson(`/dice?${new URLSearchParams({ identifier: die })}`);
      if (answer.status !== 200) return send(res, answer.status, JSON.stringify(answer.body));
      const { specification } = answer.body as { specification: DieSpecification };
      if (rollDelayMaxMs > 0) await sleep(Math.random() * rollDelayMaxMs);
      if (Math.random() < specification.error_rate) return problem(res, 500, `Die '${die}' failed!`);
      const face = specification.faces[Math.floor(Math.random() * specification.faces.length)];
      send(res, 200, JSON.stringify({ roll: face }));
    },
  };
}

function frontendRoutes(): Record<string, Handler> {
  const diceRoller = upstreamPool();
  return {
    '/roll': async (_req, res, query) => {
      const die = query.get('die') ?? '';
      const answer = await diceRoller.getJson(`/roll?${new URLSearchParams({ die })}`);
      // The project's frontend adds the roll's trace id; the yardstick sends as many bytes.
      const traceId = randomBytes(16).toString('hex');
      send(res, answer.status, JSON.stringify({ ...(answer.body as object), trace_id: traceId }));
    },
  };
}

const routesByRole: Record<string, () => Record<string, Handler>> = {
  die: dieRoutes,
  roller: rollerRoutes,
  frontend: frontendRoutes,
};

const makeRoutes = role === undefined ? undefined : routesByRole[role];
if (makeRoutes === undefined) {
  console.error('usage: server.js die|roller|frontend');
  process.exit(2);
}
const routes = makeRoutes();

const server = createServer((req, res) => {
  const { pathname, query } = splitUrl(req.url);
  if (pathname === '/health') return send(res, 200, '{"status":"ok"}');
  if (pathname === '/__lag') {
    const p99Seconds = loopDelay.percentile(99) / 1e9;
    loopDelay.reset();
    return send(res, 200, JSON.stringify({ p99_seconds: p99Seconds }));
  }
  const handler = routes[pathname];
  if (handler === undefined || req.method !== 'GET') return problem(res, 404, 'Not found');
  Promise.resolve(handler(req, res, query)).catch((error: unknown) => {
    if (!res.headersSent) problem(res, 502, `upstream failed: ${(error as Error).message}`);
    else res.destroy();
  });
});
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
