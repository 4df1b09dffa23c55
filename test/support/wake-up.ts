/**
 * Lets a test await a condition on data that arrives by events (log lines, spans,
 * output) instead of sleeping: whoever adds data calls `notify()`, and every
 * pending `until()` re-checks its condition.
 */
export class WakeUp {
  private readonly waiters = new Set<() => void>();

  notify(): void {
    for (const wake of this.waiters) wake();
  }

  /**
   * Resolves with the first value `check` returns other than undefined. `check`
   * throws to give up early (the process it waits on exited); after `timeoutMs`
   * the promise rejects with `timeoutError()`.
   */
  until<T>(check: () => T | undefined, timeoutMs: number, timeoutError: () => Error): Promise<T> {
    return new Promise((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.waiters.delete(evaluate);
        clearTimeout(timer);
        outcome();
      };
      const evaluate = () => {
        try {
          const value = check();
          if (value !== undefined) settle(() => resolve(value));
        } catch (error) {
          settle(() => reject(error));
        }
      };
      const timer = setTimeout(() => settle(() => reject(timeoutError())), timeoutMs);
      this.waiters.add(evaluate);
      evaluate();
    });
  }
}
