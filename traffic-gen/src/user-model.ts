import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@dice-roller/telemetry';
import type { UserModelOptions } from './options';
import { drawBatchSize } from './traced-roll';
import { Workload, type WorkloadDependencies } from './workload';

export interface UserModelDependencies extends WorkloadDependencies {
  logger: Logger;
}

/** Resolves after `seconds`, or early (without error) when `signal` is aborted. */
async function pause(seconds: number, signal: AbortSignal): Promise<void> {
  if (seconds <= 0) return;
  try {
    await sleep(seconds * 1000, undefined, { signal });
  } catch {
    // Aborted: the caller sees `signal.aborted` and stops.
  }
}

/**
 * The closed model, as the seed ran it: `users` simulated users at once, each
 * rolling between 1 and `maxRolls` times, a random die each time, with a think
 * time between rolls. A share of the users (`batchShare`) roll a batch of dice each
 * time instead of one. Each user draws from its own random stream, so with the same
 * seed every user makes the same choices whatever the timing of the others.
 */
export class UserModel extends Workload<
  Pick<UserModelOptions, 'users' | 'maxRolls' | 'thinkTime' | 'batchShare' | 'maxBatchSize'>,
  UserModelDependencies
> {
  usersDone = 0;

  async run(): Promise<void> {
    const users = Array.from({ length: this.options.users }, (_, index) => this.user(index + 1));
    await Promise.all(users);
  }

  /** "users 3/10 done", for the progress line. */
  progress(): string {
    return `users ${this.usersDone}/${this.options.users} done`;
  }

  private async user(id: number): Promise<void> {
    const { roll, dice, logger, stop } = this.deps;
    const random = this.deps.random.derive(id);
    const { min, max } = this.options.thinkTime;
    const rolls = random.integer(1, this.options.maxRolls);
    const rollsBatches = random.next() < this.options.batchShare;
    let successes = 0;
    let failures = 0;
    for (let done = 0; done < rolls; done++) {
      if (done > 0) await pause(random.between(min, max), stop);
      if (stop.aborted) return;
      const die = random.pick(dice);
      const batchSize = rollsBatches ? drawBatchSize(random, this.options.maxBatchSize) : undefined;
      const result = await roll(die, batchSize, { 'traffic_gen.user': id });
      if (result === undefined) return;
      if (result.ok) successes += 1;
      else failures += 1;
    }
    this.usersDone += 1;
    logger.info({ user: id, rolls, batches: rollsBatches, successes, failures }, 'User completed');
  }
}
