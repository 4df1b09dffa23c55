import { type Logger, RateLimitedDiagLogger } from '@dice-roller/telemetry';
import { DiagLogLevel, diag } from '@opentelemetry/api';

/**
 * Sends the OpenTelemetry SDK's own warnings (a collector that does not answer)
 * to traffic-gen's log, once per kind of message a minute, as the bootstrap does
 * for the services. The bootstrap's logger writes to stdout unless LOG_STREAM=stderr
 * was set before node started; through traffic-gen's log they reach stderr whatever
 * the command line, so stdout stays the --json summary alone, and on a terminal they
 * do not break the live progress line.
 */
export function logSdkDiagnostics(logger: Logger): void {
  // OTEL_LOG_LEVEL asks for the SDK's own console diagnostics: leave them alone.
  if (process.env.OTEL_LOG_LEVEL !== undefined) return;
  diag.setLogger(new RateLimitedDiagLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
}
