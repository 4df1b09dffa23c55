import type { Logger } from '@dice-roller/telemetry';
import { context, type DiagLogger, DiagLogLevel, diag, ROOT_CONTEXT } from '@opentelemetry/api';

const REPEAT_INTERVAL_MS = 60_000;

/** The SDK reports a failed export as a JSON-serialised error; its message is what matters. */
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
 * Sends the OpenTelemetry SDK's own warnings (a collector that does not answer)
 * to traffic-gen's log, once per distinct message a minute, as the bootstrap does
 * for the services. The bootstrap's logger writes to stdout unless LOG_STREAM=stderr
 * was set before node started; through traffic-gen's log they reach stderr whatever
 * the command line, so stdout stays the --json summary alone, and on a terminal they
 * do not break the live progress line.
 */
export function logSdkDiagnostics(logger: Logger): void {
  // OTEL_LOG_LEVEL asks for the SDK's own console diagnostics: leave them alone.
  if (process.env.OTEL_LOG_LEVEL !== undefined) return;
  const lastLogged = new Map<string, number>();
  const warn = (message: string) => {
    const summary = summarise(message);
    const now = Date.now();
    const last = lastLogged.get(summary);
    if (last !== undefined && now - last < REPEAT_INTERVAL_MS) return;
    lastLogged.set(summary, now);
    // Outside any request: an export failure does not belong to the trace that armed its timer.
    context.with(ROOT_CONTEXT, () => logger.warn({ component: 'opentelemetry-sdk' }, `OpenTelemetry: ${summary}`));
  };
  const ignore = () => {};
  const diagLogger: DiagLogger = { error: warn, warn, info: ignore, debug: ignore, verbose: ignore };
  diag.setLogger(diagLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
