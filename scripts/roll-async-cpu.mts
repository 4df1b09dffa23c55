/**
 * What a batch costs: the CPU time the three services spend on N batches of ten
 * rolls (GET /roll-async) against 10 N single rolls (GET /roll), read from each
 * service's own `process_cpu_seconds_total` on /metrics before and after each run.
 * Ten rolls are in flight either way: one batch at a time, or ten single rolls.
 *
 *   ROLL_DELAY_MAX_MS=0 npm start                         # in one terminal
 *   node scripts/roll-async-cpu.mts --batches 500         # in another
 *
 * The figures include whatever else the services do meanwhile (span export, the
 * scrapes of this script), so run it on a quiet machine, with a collector (or
 * the stack) receiving the spans, and compare runs rather than single numbers.
 */
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    frontend: { type: 'string', default: 'http://localhost:8105' },
    'dice-roller': { type: 'string', default: 'http://localhost:8104' },
    'die-service': { type: 'string', default: 'http://localhost:8103' },
    batches: { type: 'string', default: '300' },
    die: { type: 'string', default: 'fair' },
  },
});
const BATCH_SIZE = 10;
const batches = Number(options.batches);
const services = {
  frontend: options.frontend,
  'dice-roller': options['dice-roller'],
  'die-service': options['die-service'],
};

/** Each service's CPU time so far (user + system), in seconds. */
async function cpuSeconds(): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(services).map(async ([name, url]) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = /^process_cpu_seconds_total (\S+)$/m.exec(text);
      if (line === null) throw new Error(`${name} at ${url} has no process_cpu_seconds_total`);
      return [name, Number(line[1])] as const;
    }),
  );
  return Object.fromEntries(entries);
}

async function get(path: string): Promise<void> {
  const response = await fetch(`${options.frontend}${path}`);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${path} answered ${response.status}`);
}

/** Runs `requests` with `inFlight` at a time; returns the CPU each service spent meanwhile. */
async function measure(path: string, requests: number, inFlight: number): Promise<Record<string, number>> {
  const before = await cpuSeconds();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < requests) await get(path);
    }),
  );
  const after = await cpuSeconds();
  return Object.fromEntries(Object.keys(services).map((name) => [name, (after[name] ?? 0) - (before[name] ?? 0)]));
}

const die = encodeURIComponent(options.die);
const batchPath = `/roll-async?die=${die}&times=${BATCH_SIZE}`;
const singlePath = `/roll?die=${die}`;

try {
  // Warm up both paths, so that neither pays for the JIT or for opening connections.
  const warmUp = Math.min(50, batches);
  await measure(batchPath, warmUp, 1);
  await measure(singlePath, warmUp * BATCH_SIZE, BATCH_SIZE);
  const batchCpu = await measure(batchPath, batches, 1);
  const singleCpu = await measure(singlePath, batches * BATCH_SIZE, BATCH_SIZE);

  const perUnit = (cpu: Record<string, number>) => (name: string) => ((cpu[name] ?? 0) * 1000) / batches;
  const total = (cpu: Record<string, number>) => Object.values(cpu).reduce((sum, seconds) => sum + seconds, 0);
  console.log(
    `CPU ms per ${BATCH_SIZE} rolls of "${options.die}" (${batches} batches, ${batches * BATCH_SIZE} single rolls):`,
  );
  console.log(`  ${'service'.padEnd(12)} ${'1 batch'.padStart(9)} ${`${BATCH_SIZE} singles`.padStart(11)}`);
  for (const name of Object.keys(services)) {
    console.log(
      `  ${name.padEnd(12)} ${perUnit(batchCpu)(name).toFixed(2).padStart(9)} ${perUnit(singleCpu)(name).toFixed(2).padStart(11)}`,
    );
  }
  const batchTotal = (total(batchCpu) * 1000) / batches;
  const singleTotal = (total(singleCpu) * 1000) / batches;
  console.log(
    `  ${'all three'.padEnd(12)} ${batchTotal.toFixed(2).padStart(9)} ${singleTotal.toFixed(2).padStart(11)}`,
  );
  console.log(
    `A batch of ${BATCH_SIZE} costs ${((batchTotal / singleTotal) * 100).toFixed(0)}% of ${BATCH_SIZE} single rolls.`,
  );
} catch (error) {
  console.error(`Could not measure: ${error instanceof Error ? error.message : error}`);
  console.error('Are the services running? Start them with: ROLL_DELAY_MAX_MS=0 npm start');
  process.exitCode = 1;
}
