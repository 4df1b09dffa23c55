/**
 * Variants 5 and 7 of the benchmark: the project's three hops (roles.ts) on plain
 * Express 5, with no logs or metrics, and no telemetry unless tracing.ts is
 * loaded first (variant 7): the yardstick for what the framework itself costs,
 * against which the project with its SDK off is measured.
 *
 *   node bench/dist/bench/bare-chain/express-server.js die|roller|frontend
 */
import { createServer } from 'node:http';
import express, { type Response } from 'express';
import { type Answer, problem, routeOfRole } from './roles';
import { listen, operationalAnswer, splitUrl } from './serve';

const role = process.argv[2];
const route = routeOfRole(role);

function send(res: Response, { status, body, contentType }: Answer): void {
  res.status(status).type(contentType).send(body);
}

const app = express();
// The project's services switch ETags off too (a SHA-1 of every body): compare like with like.
app.disable('etag');
app.get(['/health', '/__lag'], (req, res) => {
  send(res, operationalAnswer(req.path) as Answer);
});
app.get(route.path, async (req, res) => {
  // Express hands the query over as an object; the role reads URLSearchParams.
  const { query } = splitUrl(req.url);
  try {
    send(res, await route.answer(query));
  } catch (error) {
    send(res, problem(502, `upstream failed: ${(error as Error).message}`));
  }
});
listen(createServer(app), role ?? '');
