import { readFileSync, type StatWatcher, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@dice-roller/telemetry';
import type { FaultName } from './faults';
import { type ActiveFault, activeFaults, FlagFileError, parseFlagDocument } from './flag-file';

/**
 * Keeps the last good reading of the flag file: which faults it switches on. It
 * polls the file's status (fs.watchFile, which also works on the bind mounts of
 * Docker Desktop, where change notifications do not cross), re-reads it when it
 * changes, and on a malformed file logs one ERROR and keeps what it had.
 */
export class FlagFileWatcher {
  private active: ActiveFault[] = [];
  private good = false;
  /** Set from a failed reading until the next good one. */
  private inTrouble = false;
  private watcher: StatWatcher | undefined;
  private readonly onGoodReading: (() => void)[] = [];

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly pollMs: number,
  ) {}

  /** The faults switched on, as of the last good reading (none before one). */
  get activeFaults(): readonly ActiveFault[] {
    return this.active;
  }

  isActive(fault: FaultName): boolean {
    return this.active.some((active) => active.fault === fault);
  }

  /** Whether a good reading has been taken since start. */
  get hasGoodReading(): boolean {
    return this.good;
  }

  /** Calls `listener` after each good reading. */
  onChange(listener: () => void): void {
    this.onGoodReading.push(listener);
  }

  /** Reads the file once now, then polls it every `pollMs`. */
  start(): void {
    let text: string | undefined;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      this.report('cannot be read', (error as NodeJS.ErrnoException).code ?? String(error));
    }
    if (text !== undefined) this.take(text, 'Fault flags loaded');
    // Node keeps one status poller per file, at the interval of the first caller:
    // registered first, this one also sets the pace of the flagd provider, which
    // watches the same file with Node's default of 5 s.
    this.watcher = watchFile(this.file, { interval: this.pollMs, persistent: false }, () => void this.reread());
  }

  private async reread(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      this.report('cannot be read', (error as NodeJS.ErrnoException).code ?? String(error));
      return;
    }
    this.take(text, 'Fault flags changed');
  }

  private take(text: string, message: string): void {
    const before = JSON.stringify(this.active);
    try {
      this.active = activeFaults(parseFlagDocument(text));
    } catch (error) {
      if (!(error instanceof FlagFileError)) throw error;
      this.report('is malformed', error.message);
      return;
    }
    const firstReading = !this.good;
    this.good = true;
    this.inTrouble = false;
    // One line when the faults switched on change (the line to find in Loki), not on every save.
    if (firstReading || JSON.stringify(this.active) !== before) {
      this.logger.info({ file: this.file, faults_active: this.active }, message);
    }
    for (const listener of this.onGoodReading) listener();
  }

  /**
   * One ERROR per spell of trouble, however many times the file changes before it
   * reads well again: an editor that saves in two steps (empty, then written)
   * shows the poller two bad versions of one edit.
   */
  private report(problem: string, reason: string): void {
    const consequence = this.good ? 'keeping the last good flags' : 'every fault stays off until it is fixed';
    const message = `Fault flags file ${problem}; ${consequence}`;
    if (this.inTrouble) {
      this.logger.debug({ file: this.file, error: reason }, message);
    } else {
      this.inTrouble = true;
      this.logger.error({ file: this.file, error: reason }, message);
    }
  }

  stop(): void {
    if (this.watcher !== undefined) unwatchFile(this.file);
    this.watcher = undefined;
  }
}
