/**
 * Variants 4 and 7 of the benchmark: a yardstick with OpenTelemetry tracing
 * switched on the stock way, and nothing else. Loaded with `node --require` before
 * the yardstick's server (bare node:http for 4, plain Express for 7): NodeSDK with
 * the HTTP server instrumentation and the undici client instrumentation,
 * exporting OTLP/HTTP protobuf to the harness's sink (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_SERVICE_NAME from the environment). Same five spans per roll as the
 * project, no metrics, no logs: what it costs is what the SDK itself costs.
 */
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';

const UNTRACED_PATHS = new Set(['/health', '/__lag']);

new NodeSDK({
  instrumentations: [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(request.url ?? ''),
      disableOutgoingRequestInstrumentation: true,
    }),
    new UndiciInstrumentation(),
  ],
}).start();
