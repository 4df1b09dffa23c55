/**
 * The yardstick (variants 3 and 4 of the benchmark): the project's three hops
 * (roles.ts) on bare `node:http` servers, without a framework, telemetry or logs.
 * What it reaches is the floor this machine sets for three Node.js processes
 * passing a request along over loopback.
 *
 *   node bench/dist/bench/bare-chain/server.js die|roller|frontend
 */
import { createServer, type ServerResponse } from 'node:http';
import { type Answer, problem, routeOfRole } from './roles';
import { listen, operationalAnswer, splitUrl } from './serve';

const role = process.argv[2];
const route = routeOfRole(role);

function send(res: ServerResponse, { status, body, contentType }: Answer): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const { pathname, query } = splitUrl(req.url ?? '/');
  const operational = operationalAnswer(pathname);
  if (operational !== undefined) return send(res, operational);
  if (pathname !== route.path || req.method !== 'GET') return send(res, problem(404, 'Not found'));
  Promise.resolve(route.answer(query)).then(
    (answer) => send(res, answer),
    (error: unknown) => send(res, problem(502, `upstream failed: ${(error as Error).message}`)),
  );
});
listen(server, role ?? '');
