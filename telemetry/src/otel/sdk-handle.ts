import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What the rest of the process needs from the OpenTelemetry SDK once it runs.
 * Kept apart from `sdk.ts` so that importing it never loads the SDK itself:
 * with OTEL_SDK_DISABLED=true nothing of the SDK is loaded at all.
 */
export interface SdkHandle {
  /** Flushes pending spans and stops the SDK; never takes longer than `timeoutMs`. */
  shutdown(timeoutMs: number): Promise<void>;
  /** Serves the SDK's own semantic-convention metrics in the Prometheus text format. */
  serveOtelMetrics(request: IncomingMessage, response: ServerResponse): void;
}

let activeSdk: SdkHandle | undefined;

export function setActiveSdk(handle: SdkHandle): void {
  activeSdk = handle;
}

export function getActiveSdk(): SdkHandle | undefined {
  return activeSdk;
}

/**
 * Flushes and stops the SDK, if it runs, within `timeoutMs`. Services call it on
 * shutdown; a command-line tool calls it before exiting so its last spans arrive.
 */
export async function shutdownTelemetry(timeoutMs: number): Promise<void> {
  await activeSdk?.shutdown(timeoutMs);
}
