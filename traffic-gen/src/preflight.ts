import { trace } from '@opentelemetry/api';
import type { FailureStatus, FrontendClient } from './frontend-client';

/** The start-up check is quick: a frontend that is not there should say so within seconds. */
export const PREFLIGHT_TIMEOUT_MS = 3_000;

export type Preflight =
  | { ok: true; dice: string[] }
  /** `exitCode` 1: the system is not usable; 2: the command line asks for dice it does not offer. */
  | { ok: false; exitCode: 1 | 2; message: string };

const HOW_TO_START =
  'Start the services first: `npm start` (or `docker compose up -d`), or point --url at a running frontend.';

function unusable(message: string): Preflight {
  return { ok: false, exitCode: 1, message };
}

/** Nothing usable answered: nothing listens, it is too slow, or it is not a Dice Roller frontend. */
function unreachable(url: string, path: string, status: FailureStatus, detail: string): Preflight {
  switch (status) {
    case 'connection_error':
      return unusable(`Cannot reach the frontend at ${url} (${detail}).\n${HOW_TO_START}`);
    case 'timeout':
      return unusable(
        `The frontend at ${url} did not answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s.\n${HOW_TO_START}`,
      );
    default:
      return unusable(
        `${url} answered GET ${path} with ${status} (${detail}): is it the Dice Roller frontend? Check --url.`,
      );
  }
}

async function check(
  client: FrontendClient,
  url: string,
  requested: readonly string[] | undefined,
): Promise<Preflight> {
  // One deadline for the whole check.
  const deadline = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
  // die-service serves GET /dice too: only /info tells the frontend from the services behind it.
  const info = await client.info(deadline);
  if (!info.ok) return unreachable(url, '/info', info.status, info.detail);
  if (info.name !== 'frontend') {
    return unusable(
      `${url} is ${info.name === undefined ? 'not a Dice Roller service' : info.name}, not the frontend: ` +
        'traffic-gen rolls through the frontend (http://localhost:8105 with `npm start`). Check --url.',
    );
  }

  const listing = await client.listDice(deadline);
  if (!listing.ok) {
    if (listing.status === '503' || listing.status === '504') {
      return unusable(
        `The frontend at ${url} answers but cannot list the dice: ${listing.detail} (HTTP ${listing.status}).\n` +
          'Start die-service (`npm start` starts all three services), then run traffic-gen again.',
      );
    }
    return unreachable(url, '/dice', listing.status, listing.detail);
  }
  if (listing.identifiers.length === 0) {
    return unusable(`The system at ${url} offers no dice: check die-service's specifications.`);
  }
  if (requested === undefined) return { ok: true, dice: listing.identifiers };

  const offered = new Set(listing.identifiers);
  const unknown = requested.filter((die) => !offered.has(die));
  if (unknown.length > 0) {
    return {
      ok: false,
      exitCode: 2,
      message: `--dice: ${unknown.map((die) => `"${die}"`).join(', ')} not offered by the system at ${url} (it offers ${listing.identifiers.join(', ')})`,
    };
  }
  return { ok: true, dice: [...requested] };
}

/**
 * Before any load: is it the frontend that answers at --url, and which dice does
 * the system offer? The answer to GET /dice is the list traffic-gen rolls from
 * (restricted by --dice), so a die added to die-service is rolled without changing
 * traffic-gen.
 */
export function preflight(
  client: FrontendClient,
  url: string,
  requested: readonly string[] | undefined,
): Promise<Preflight> {
  // A trace of its own, named for what it does, rather than bare "GET" client spans.
  return trace.getTracer('traffic-gen').startActiveSpan('check frontend', { root: true }, async (span) => {
    try {
      return await check(client, url, requested);
    } finally {
      span.end();
    }
  });
}
