import { context, type DiagLogger, ROOT_CONTEXT } from '@opentelemetry/api';
import type { Logger } from 'pino';

const REPEAT_INTERVAL_MS = 60_000;
const MAX_KINDS = 1_000;

/**
 * The SDK reports failures as a JSON-serialised error, stack included
 * (`{"stack":"Error: connect ECONNREFUSED ...","message":"connect ECONNREFUSED ..."}`).
 * Only the message is worth a log line.
 */
function summarise(message: string): string {
  if (!message.startsWith('{')) return message;
  try {
    const parsed = JSON.parse(message) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : message;
  } catch {
    return message;
  }
}

/**
 * Routes the OpenTelemetry SDK's own warnings and errors (such as a failed span
 * export) into the service log, once per kind of message per minute. A collector
 * that is down then shows up as one clear warning a minute instead of one per
 * batch of spans, and the service never floods its own log.
 */
export class RateLimitedDiagLogger implements DiagLogger {
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  error(message: string, ...args: unknown[]): void {
    this.warn(message, ...args);
  }

  warn(message: string, ...args: unknown[]): void {
    // Some components pass the cause separately: diag.error('export failed', error).
    const cause = args.find((arg): arg is Error => arg instanceof Error);
    const summary = [summarise(message), cause?.message].filter(Boolean).join(': ');
    // "Dropped 450 spans" and "Dropped 1696 spans" are the same news, and so are
    // two messages that differ only in a trace or span id.
    const kind = summary.replace(/\b[0-9a-f]{16,32}\b/gi, '#').replace(/\d+/g, '#');
    const now = Date.now();
    // Kinds are few; a message that varies in some other way must not grow the map forever.
    if (this.lastLogged.size >= MAX_KINDS) this.lastLogged.clear();
    const last = this.lastLogged.get(kind);
    if (last !== undefined && now - last < REPEAT_INTERVAL_MS) return;
    this.lastLogged.set(kind, now);
    // Outside any request's context: an export runs on a timer that may have been
    // armed inside a request, and its failure does not belong to that trace.
    context.with(ROOT_CONTEXT, () => {
      this.logger.warn({ component: 'opentelemetry-sdk' }, `OpenTelemetry: ${summary}`);
    });
  }

  info(): void {}

  debug(): void {}

  verbose(): void {}
}
