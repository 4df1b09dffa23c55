import type { CommonOptions } from './options';
import type { Random } from './random';
import type { Roll } from './traced-roll';

/** What every traffic model rolls with. */
export interface WorkloadDependencies {
  roll: Roll;
  random: Random;
  dice: readonly string[];
  /** Aborted when traffic-gen stops: no new roll starts. */
  stop: AbortSignal;
}

/**
 * A traffic model (the closed user model, the open model), built from its options
 * and what it rolls with: `run` sends its traffic until it is done or stopped,
 * `progress` says how far it is, for the progress line.
 */
export abstract class Workload<
  Options extends Pick<CommonOptions, 'batchShare' | 'maxBatchSize'>,
  Dependencies extends WorkloadDependencies,
> {
  constructor(
    protected readonly options: Options,
    protected readonly deps: Dependencies,
  ) {}

  /** Resolves once the last roll it started has been answered. */
  abstract run(): Promise<void>;

  abstract progress(): string;
}
