/**
 * A/B comparison of two settings of the project's services, for optimisation work:
 * two full-telemetry chains (variant 1) run side by side, one with each extra
 * environment, and short measured runs alternate between them (A B A B ...) so
 * that the machine's drift hits both alike. Prints each round and the medians of
 * CPU per roll (the sum over the three services) and requests/s.
 *
 *   node bench/dist/bench/ab.js --a LOG_LEVEL=info --b LOG_LEVEL=warn [--rounds 8] [--duration 3] [--concurrency 50]
 *   node bench/dist/bench/ab.js --a-root /tmp/before    # a snapshot of an earlier build (bench/snapshot.ts)
 *
 * --a and --b take KEY=VALUE, repeatable (none: the defaults); --a-root and
 * --b-root run that side's services from another tree (default: this repository);
 * --delay sets ROLL_DELAY_MAX_MS on both sides (0, or 'default' for the services' own).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OtlpReceiver } from '../test/support/otlp-receiver';
import { REPO_ROOT, stopAllProcesses as stopAll } from '../test/support/service-process';
import { type Chain, startChain } from './lib/chains';
import { environmentAssignments } from './lib/command-line';
import { measureRun, type RunRecord } from './lib/measure';
import { cpuPerRoll, median } from './lib/report';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      a: { type: 'string', multiple: true, default: [] },
      b: { type: 'string', multiple: true, default: [] },
      'a-root': { type: 'string' },
      'b-root': { type: 'string' },
      rounds: { type: 'string', default: '8' },
      duration: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '50' },
      // ROLL_DELAY_MAX_MS for both sides; 'default' leaves the services' default (1000).
      delay: { type: 'string', default: '0' },
    },
  });
  const settings = { A: environmentAssignments('a', values.a), B: environmentAssignments('b', values.b) };
  const roots = { A: values['a-root'], B: values['b-root'] };
  const rounds = Number(values.rounds);
  const durationSeconds = Number(values.duration);
  const connections = Number(values.concurrency);
  const rollDelayMaxMs = values.delay === 'default' ? undefined : Number(values.delay);
  const logDir = path.join(REPO_ROOT, 'bench', 'out', 'ab-logs');
  mkdirSync(logDir, { recursive: true });
  const sink = new OtlpReceiver({ keepSpans: false });
  const otlpEndpoint = await sink.start();
  process.once('SIGINT', () => void stopAll().finally(() => process.exit(130)));

  const chains: Record<'A' | 'B', Chain | undefined> = { A: undefined, B: undefined };
  const results: Record<'A' | 'B', RunRecord[]> = { A: [], B: [] };
  try {
    for (const side of ['A', 'B'] as const) {
      chains[side] = await startChain(1, {
        rollDelayMaxMs,
        logDir,
        label: `ab-${side}`,
        otlpEndpoint,
        env: settings[side],
        ...(roots[side] === undefined ? {} : { root: path.resolve(roots[side]) }),
      });
    }
    const pids = (side: 'A' | 'B') => chains[side]?.services.map((service) => service.process.pid) ?? [];
    for (let round = 1; round <= rounds; round++) {
      // Alternate which side goes first, so neither always follows the other.
      const order = round % 2 === 1 ? (['A', 'B'] as const) : (['B', 'A'] as const);
      for (const side of order) {
        const record = await measureRun({
          chain: chains[side] as Chain,
          scenario: 'throughput',
          connections,
          round,
          warmupSeconds: round === 1 ? Number(values.warmup) : 0.5,
          durationSeconds,
          otherPids: () => pids(side === 'A' ? 'B' : 'A'),
        });
        results[side].push(record);
        console.log(
          `round ${round} ${side}: ${record.load.rps.toFixed(0)} req/s, CPU ${cpuPerRoll(record).toFixed(3)} ms/roll ` +
            `(${record.services.map((s) => s.cpuMsPerRoll.toFixed(3)).join('/')}), foreign ${(100 * record.foreignCpuCores).toFixed(0)} %`,
        );
      }
    }
  } finally {
    await stopAll();
    await sink.stop();
  }
  for (const side of ['A', 'B'] as const) {
    const runs = results[side];
    console.log(
      `${side} ${roots[side] ?? 'working tree'} ${JSON.stringify(settings[side])}: median ${median(runs.map((r) => r.load.rps)).toFixed(0)} req/s, ` +
        `median CPU ${median(runs.map(cpuPerRoll)).toFixed(3)} ms/roll, ` +
        `RSS ${runs
          .at(-1)
          ?.services.map((s) => s.rssMiB?.toFixed(0))
          .join('/')} MiB`,
    );
  }
  const ratio = results.B.map((b, i) => cpuPerRoll(b) / cpuPerRoll(results.A[i] as RunRecord));
  console.log(
    `B/A CPU per roll, per round: ${ratio.map((r) => r.toFixed(2)).join(' ')}; median ${median(ratio).toFixed(3)}`,
  );
}

main().catch(async (error: unknown) => {
  console.error(error);
  await stopAll();
  process.exit(1);
});
