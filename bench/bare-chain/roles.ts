/**
 * What each of the three hops of the benchmark's yardsticks does, apart from the
 * HTTP framework that serves it: the same three-hop chain as the project,
 * frontend -> dice-roller -> die-service, with the same JSON answers, calling the
 * next hop through an undici keep-alive pool. `server.ts` serves these on bare
 * `node:http` (variants 3 and 4), `express-server.ts` on plain Express (variants 5 and 7).
 *
 * Environment: UPSTREAM_URL (roller, frontend), ROLL_DELAY_MAX_MS (roller).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

interface DieSpecification {
  faces: number[];
  error_rate: number;
}

/** What a hop answers: the framework writes it out. */
export interface Answer {
  status: number;
  body: string;
  contentType: string;
}

/** A role's one route: its path and what it answers for a query. */
export interface Route {
  path: string;
  answer(query: URLSearchParams): Answer | Promise<Answer>;
}

// Compiled to bench/dist/bench/bare-chain/.
const SPECIFICATIONS_FILE = path.resolve(__dirname, '..', '..', '..', '..', 'die-service', 'die_specifications.json');
const UPSTREAM_TIMEOUT_MS = 5_000;

const JSON_TYPE = 'application/json; charset=utf-8';

export function json(status: number, body: unknown): Answer {
  return { status, body: JSON.stringify(body), contentType: JSON_TYPE };
}

export function problem(status: number, detail: string, extra: Record<string, unknown> = {}): Answer {
  const body = JSON.stringify({ type: 'urn:bench:problem', title: 'Problem', status, detail, ...extra });
  return { status, body, contentType: 'application/problem+json; charset=utf-8' };
}

/** One keep-alive pool per upstream, created once; unlimited connections, as the load needs. */
function upstream(): (pathAndQuery: string) => Promise<{ status: number; body: unknown }> {
  const url = process.env.UPSTREAM_URL;
  if (url === undefined) throw new Error('this role needs UPSTREAM_URL');
  const pool = new Pool(url, {
    keepAliveTimeout: 4_000,
    headersTimeout: UPSTREAM_TIMEOUT_MS,
    bodyTimeout: UPSTREAM_TIMEOUT_MS,
  });
  return async (pathAndQuery) => {
    const response = await pool.request({ method: 'GET', path: pathAndQuery });
    return { status: response.statusCode, body: await response.body.json() };
  };
}

function dieService(): Route {
  const catalog = new Map(Object.entries(JSON.parse(readFileSync(SPECIFICATIONS_FILE, 'utf8')) as object)) as Map<
    string,
    DieSpecification
  >;
  const identifiers = [...catalog.keys()];
  return {
    path: '/dice',
    answer: (query) => {
      const identifier = query.get('identifier');
      if (identifier === null) return json(200, { identifiers });
      const specification = catalog.get(identifier);
      if (specification === undefined) return problem(404, `Die '${identifier}' not found`, { available: identifiers });
      return json(200, { identifier, specification });
    },
  };
}

function diceRoller(): Route {
  const getJson = upstream();
  const rollDelayMaxMs = Number(process.env.ROLL_DELAY_MAX_MS ?? 1000);
  return {
    path: '/roll',
    answer: async (query) => {
      const die = query.get('die') ?? '';
      const answer = await getJson(`/dice?${new URLSearchParams({ identifier: die })}`);
      if (answer.status !== 200) return json(answer.status, answer.body);
      const { specification } = answer.body as { specification: DieSpecification };
      if (rollDelayMaxMs > 0) await sleep(Math.random() * rollDelayMaxMs);
      if (Math.random() < specification.error_rate) return problem(500, `Die '${die}' failed!`);
      return json(200, { roll: specification.faces[Math.floor(Math.random() * specification.faces.length)] });
    },
  };
}

function frontend(): Route {
  const getJson = upstream();
  return {
    path: '/roll',
    answer: async (query) => {
      const answer = await getJson(`/roll?${new URLSearchParams({ die: query.get('die') ?? '' })}`);
      // The project's frontend adds the roll's trace id; the yardstick sends as many bytes.
      return json(answer.status, { ...(answer.body as object), trace_id: randomBytes(16).toString('hex') });
    },
  };
}

const ROLES: Record<string, () => Route> = { die: dieService, roller: diceRoller, frontend };

/** The route of the role named on the command line (`die`, `roller` or `frontend`); exits on anything else. */
export function routeOfRole(role: string | undefined): Route {
  const make = role === undefined ? undefined : ROLES[role];
  if (make === undefined) {
    console.error('usage: <server>.js die|roller|frontend');
    process.exit(2);
  }
  return make();
}
