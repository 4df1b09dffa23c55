/**
 * The concurrency experiment: ten single rolls one after another, then one batch
 * of ten rolls (GET /roll-async), against a running frontend. Each roll waits a
 * random 0..ROLL_DELAY_MAX_MS, so the single rolls take the sum of ten delays and
 * the batch, whose rolls run side by side, only the longest of its ten.
 *
 *   npm run experiment                                   # frontend on localhost:8105, die "fair", 10 rolls
 *   npm run experiment -- --url http://host:8105 --die risky --times 5
 *
 * Prints both times, the speed-up, and the trace id of each, to look up in Tempo.
 * Exits 1 when the frontend cannot be reached or does not answer 200.
 */
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:8105' },
    die: { type: 'string', default: 'fair' },
    times: { type: 'string', default: '10' },
  },
});
const baseUrl = options.url.replace(/\/+$/, '');
const times = Number(options.times);
if (!Number.isInteger(times) || times < 1 || times > 20) {
  console.error(`--times must be an integer from 1 to 20 (got "${options.times}")`);
  process.exit(2);
}

interface Timed {
  ms: number;
  body: Record<string, unknown>;
}

/** GET `path` on the frontend: its JSON body and how long the answer took, or an error naming the status. */
async function timedGet(path: string): Promise<Timed> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(30_000) });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  const ms = performance.now() - started;
  if (response.status !== 200) {
    throw new Error(`GET ${path} answered ${response.status}: ${String(body.detail ?? 'no detail')}`);
  }
  return { ms, body };
}

const formatMs = (ms: number) => `${Math.round(ms)} ms`.padStart(8);
const die = encodeURIComponent(options.die);

try {
  // One request first, so that neither measurement pays for opening the connection.
  await timedGet('/dice');

  const singles: Timed[] = [];
  for (let i = 0; i < times; i++) singles.push(await timedGet(`/roll?die=${die}`));
  const sequentialMs = singles.reduce((sum, roll) => sum + roll.ms, 0);

  const batch = await timedGet(`/roll-async?die=${die}&times=${times}`);

  console.log(`${times} single rolls of "${options.die}", one after another, against ${baseUrl}:`);
  console.log(`  ${formatMs(sequentialMs)}   rolls ${singles.map((roll) => roll.body.roll).join(', ')}`);
  console.log(`  trace ids: ${singles.map((roll) => roll.body.trace_id).join(' ')}`);
  console.log(`One batch of ${times} (GET /roll-async), the rolls side by side:`);
  console.log(
    `  ${formatMs(batch.ms)}   rolls ${(batch.body.rolls as number[]).join(', ')} (total ${batch.body.total})`,
  );
  console.log(`  trace id: ${batch.body.trace_id}`);
  console.log(`Speed-up: ${(sequentialMs / batch.ms).toFixed(1)}x`);
} catch (error) {
  console.error(`The experiment could not run: ${error instanceof Error ? error.message : error}`);
  console.error(`Is the frontend running at ${baseUrl}? Start the services with: npm start`);
  process.exitCode = 1;
}
