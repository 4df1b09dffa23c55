import { trace } from '@opentelemetry/api';
import type { FrontendClient } from './frontend-client';

/** The start-up check is quick: a frontend that is not there should say so within seconds. */
export const PREFLIGHT_TIMEOUT_MS = 3_000;

export type Preflight =
  | { ok: true; dice: string[] }
  /** `exitCode` 1: the system is not usable; 2: the command line asks for dice it does not offer. */
  | { ok: false; exitCode: 1 | 2; message: string };

const HOW_TO_START =
  'Start the services first: `npm start` (or `docker compose up -d`), or point --url at a running frontend.';

/**
 * Before any load: does the frontend answer, and which dice does the system offer?
 * The answer to GET /dice is the list traffic-gen rolls from (restricted by --dice),
 * so a die added to die-service is rolled without changing traffic-gen.
 */
export async function preflight(
  client: FrontendClient,
  url: string,
  requested: readonly string[] | undefined,
): Promise<Preflight> {
  // A trace of its own, named for what it does, rather than a bare "GET" client span.
  const listing = await trace.getTracer('traffic-gen').startActiveSpan('list dice', { root: true }, async (span) => {
    try {
      return await client.listDice(PREFLIGHT_TIMEOUT_MS);
    } finally {
      span.end();
    }
  });
  if (!listing.ok) {
    switch (listing.status) {
      case 'connection_error':
        return {
          ok: false,
          exitCode: 1,
          message: `Cannot reach the frontend at ${url} (${listing.detail}).\n${HOW_TO_START}`,
        };
      case 'timeout':
        return {
          ok: false,
          exitCode: 1,
          message: `The frontend at ${url} did not answer within ${PREFLIGHT_TIMEOUT_MS / 1000} s.\n${HOW_TO_START}`,
        };
      case '503':
      case '504':
        return {
          ok: false,
          exitCode: 1,
          message:
            `The frontend at ${url} answers but cannot list the dice: ${listing.detail} (HTTP ${listing.status}).\n` +
            'Start die-service (`npm start` starts all three services), then run traffic-gen again.',
        };
      default:
        return {
          ok: false,
          exitCode: 1,
          message: `${url} answered GET /dice with ${listing.status} (${listing.detail}): is it the Dice Roller frontend? Check --url.`,
        };
    }
  }
  if (listing.identifiers.length === 0) {
    return {
      ok: false,
      exitCode: 1,
      message: `The system at ${url} offers no dice: check die-service's specifications.`,
    };
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
