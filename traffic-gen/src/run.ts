import type { Logger } from '@dice-roller/telemetry';
import type { FrontendClient } from './frontend-client';
import { OpenModel } from './open-model';
import type { RunOptions } from './options';
import { Progress } from './progress';
import { Random } from './random';
import { Stats } from './stats';
import { buildSummary, type Summary } from './summary';
import type { Terminal } from './terminal';
import { createRoller } from './traced-roll';
import { UserModel } from './user-model';

export interface RunDependencies {
  client: FrontendClient;
  logger: Logger;
  terminal: Terminal;
  /** The dice to roll: what the system offers, restricted by --dice. */
  dice: readonly string[];
  seed: number;
  /** Aborted to stop starting new requests; the run then waits for those in flight. */
  stop: AbortSignal;
  /** Aborted to cut off the requests still in flight. */
  abort: AbortSignal;
}

/** One run of the chosen model, from the first request to the summary. */
export async function run(options: RunOptions, deps: RunDependencies): Promise<Summary> {
  const { client, logger, terminal, dice, seed, stop, abort } = deps;
  const random = new Random(seed);
  const stats = new Stats(dice);
  const roll = createRoller({ client, stats, logger, abort });
  const workload =
    options.model === 'users'
      ? new UserModel(options, { roll, random, dice, logger, stop })
      : new OpenModel(options, { roll, random, dice, stats, stop });

  logger.info({ model: options.model, url: options.url, dice, seed }, 'Traffic generation started');
  const cpuAtStart = process.cpuUsage();
  const loopAtStart = performance.eventLoopUtilization();
  const startedAt = performance.now();
  const progress = new Progress({ terminal, logger, stats, describe: () => workload.progress() });
  try {
    await workload.run();
  } finally {
    progress.stop();
  }

  const summary = buildSummary(stats, {
    options,
    dice,
    seed,
    elapsedMs: performance.now() - startedAt,
    ...(workload instanceof OpenModel ? { sending: workload } : {}),
    interrupted: stop.aborted,
    usersCompleted: workload instanceof UserModel ? workload.usersDone : 0,
    usage: {
      cpu: process.cpuUsage(cpuAtStart),
      eventLoopUtilization: performance.eventLoopUtilization(loopAtStart).utilization,
    },
  });
  logger.info(
    {
      requests: summary.requests,
      successes: summary.successes,
      failures: summary.failures,
      failures_by_status: summary.failures_by_status,
      elapsed_s: summary.elapsed_s,
      rate: summary.rate.achieved,
    },
    summary.interrupted ? 'Traffic generation interrupted' : 'Traffic generation complete',
  );
  return summary;
}
