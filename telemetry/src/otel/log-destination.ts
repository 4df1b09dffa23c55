import pino, { type DestinationStream } from 'pino';

/**
 * Services log to stdout, where container runtimes collect it. A command-line tool
 * (traffic-gen) sets LOG_STREAM=stderr so that stdout carries only its results.
 */
export function logFileDescriptor(): 1 | 2 {
  return process.env.LOG_STREAM?.trim().toLowerCase() === 'stderr' ? 2 : 1;
}

/** How long a line may wait to be batched with the next ones before it is written. */
const BATCH_DELAY_MS = 10;
/** A batch this large is written at once, without waiting for the delay. */
const BATCH_MAX_BYTES = 64 * 1024;

/**
 * Gathers the lines logged within BATCH_DELAY_MS and hands them to the file
 * descriptor as one asynchronous write. A write costs a system call and a
 * thread-pool round trip whatever its size; writing once per line, or even once
 * per turn of the event loop (about one request per turn when a service is not
 * saturated), made logging 16 % of the chain's CPU per roll in bench/. A line
 * waits at most 10 ms, unnoticeable to whoever reads the logs. SonicBoom does the
 * writing: it never blocks the event loop, and it queues what arrives while a
 * write is in flight. Lines still waiting are handed over when the event loop
 * runs out of work (the write then keeps it alive until it lands) and on exit.
 */
export class BatchingDestination implements DestinationStream {
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly writer: pino.DestinationStream & { flush(cb?: (error?: Error) => void): void };

  constructor(fd: number) {
    // Registered before SonicBoom registers its own exit handler, so that lines
    // still waiting reach it before it writes out what it holds.
    process.on('exit', () => this.handOver());
    // The batch timer does not keep the process alive: a process that simply runs
    // out of work would otherwise end with its last lines still waiting.
    process.on('beforeExit', () => this.handOver());
    this.writer = pino.destination({ dest: fd, sync: false });
  }

  write(line: string): void {
    this.pending += line;
    if (this.pending.length >= BATCH_MAX_BYTES) {
      this.handOver();
    } else if (this.timer === undefined) {
      // Unreferenced: waiting lines never keep a finished process alive (they are
      // handed over on 'beforeExit' and 'exit' instead).
      this.timer = setTimeout(this.endOfBatch, BATCH_DELAY_MS).unref();
    }
  }

  private readonly endOfBatch = () => {
    this.timer = undefined;
    this.handOver();
  };

  private handOver(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending === '') return;
    const chunk = this.pending;
    this.pending = '';
    this.writer.write(chunk);
  }

  /** pino's `logger.flush()` lands here. */
  flush(cb?: (error?: Error) => void): void {
    this.handOver();
    this.writer.flush(cb);
  }
}
