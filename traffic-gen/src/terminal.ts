import type { Writable } from 'node:stream';
import { ConfigError } from '@dice-roller/telemetry';

/** `json`: the project's JSON log lines, for a log collector. `text`: one readable line each. */
export type LogFormat = 'json' | 'text';

/**
 * LOG_FORMAT when set; otherwise readable text on a developer's terminal and JSON
 * everywhere else. A TTY alone does not mean a human is reading: `docker compose run`
 * gives a container one, and its output still goes to Alloy and Loki. The images set
 * NODE_ENV=production, which is what tells a deployment from a terminal here.
 */
export function chooseLogFormat(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): LogFormat {
  const asked = env.LOG_FORMAT;
  if (asked === 'json' || asked === 'text') return asked;
  if (asked !== undefined && asked !== '') throw new ConfigError(`LOG_FORMAT must be json or text (got "${asked}")`);
  return stream.isTTY === true && env.NODE_ENV !== 'production' ? 'text' : 'json';
}

/** Log fields the one-line human rendering leaves out: they are in every line, or noise. */
const HIDDEN_FIELDS = new Set(['timestamp', 'level', 'service', 'message', 'span_id', 'trace_flags']);

/**
 * Everything traffic-gen writes to stderr goes through here: log lines, progress
 * lines, and on a terminal the live progress line, which is cleared before any
 * other line is written and drawn again after it, so the two never mix.
 */
export class Terminal {
  private live = '';
  /**
   * A live line redrawn in place: only for readable text on a terminal. With JSON
   * logs every line must stay one JSON object, so progress is logged instead.
   */
  readonly interactive: boolean;

  constructor(
    private readonly stream: Writable & { isTTY?: boolean; columns?: number },
    readonly format: LogFormat,
  ) {
    this.interactive = format === 'text' && stream.isTTY === true;
  }

  writeLine(text: string): void {
    if (this.live === '') {
      this.stream.write(`${text}\n`);
    } else {
      this.stream.write(`\r\x1b[2K${text}\n${this.live}`);
    }
  }

  /** Replaces the live line (a no-op when stderr is not a terminal). */
  setLive(text: string): void {
    if (!this.interactive) return;
    // A line wider than the terminal wraps, and \r would then redraw only its last row.
    const columns = this.stream.columns ?? 0;
    this.live = columns > 1 && text.length >= columns ? text.slice(0, columns - 1) : text;
    this.stream.write(`\r\x1b[2K${this.live}`);
  }

  clearLive(): void {
    if (this.live === '') return;
    this.live = '';
    this.stream.write('\r\x1b[2K');
  }

  /**
   * A pino destination: one JSON object per line, or in the text format one readable
   * line each: `10:41:02 INFO  User completed user=3 rolls=12`.
   */
  logDestination(): { write(line: string): void } {
    return {
      write: (line) => {
        const text = line.endsWith('\n') ? line.slice(0, -1) : line;
        this.writeLine(this.format === 'text' ? humanLogLine(text) : text);
      },
    };
  }
}

export function humanLogLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof record.timestamp === 'string' ? record.timestamp.slice(11, 19) : '';
  const level = String(record.level ?? '').padEnd(7);
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [time, level, record.message, ...fields].filter((part) => part !== '').join(' ');
}
