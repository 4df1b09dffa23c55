import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { SpanStatusCode } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { type ResponseHookFunction, UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, envDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { SdkHandle } from './sdk-handle';
import type { ServiceIdentity } from './service-identity';
import { applyRecordedFailure } from './spans';
import { isUntracedPath } from './untraced-paths';
import { withTimeout } from './with-timeout';

// Still in the incubating semantic conventions, whose entry point is large; the
// semconv package recommends copying such constants rather than importing them.
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

/**
 * Only the instrumentations that add information to a small HTTP service's traces.
 * The auto-instrumentations bundle would also patch fs, dns and net, whose spans
 * are noise here and cost time on every request. Express is not instrumented: its
 * handler spans would only repeat the server span, which is named after the route
 * by `nameServerSpanByRoute()` instead.
 */
function createInstrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (request) => isUntracedPath(request.url),
      // Runs after the instrumentation has set a failed server span's status (with
      // no message): the reason the service recorded takes its place.
      applyCustomAttributesOnSpan: applyRecordedFailure,
      // Calls to other services go through undici (traced below); the only
      // node:http client here is the OTLP exporter itself, which is not worth a metric.
      disableOutgoingRequestInstrumentation: true,
    }),
    new UndiciInstrumentation({ responseHook: describeHttpFailure }),
    // Adds trace_id/span_id to every log line written inside a span. Sending log
    // records to the OpenTelemetry Logs API is on only when a logs exporter is
    // configured (OTEL_LOGS_EXPORTER=otlp): otherwise the instrumentation would tee
    // every line into a second stream that decodes and parses it back from JSON
    // for nothing (3 % of the services' CPU time under load, in bench/ profiles).
    new PinoInstrumentation({ disableLogSending: !logsExported() }),
  ];
}

/**
 * The undici instrumentation's `responseHook`: the client span of a call answered
 * with an HTTP error (4xx or 5xx, as the instrumentation counts them) gets a status
 * message such as `500 Internal Server Error`, as a timeout or a connection error
 * already does. The semantic conventions allow leaving it out when the status code
 * says it; this project gives every failed span a reason that Tempo shows.
 * The hook runs just before the instrumentation sets the status (ERROR, with no
 * message), which would replace a status set here: so this one span's setStatus
 * keeps the message instead.
 */
const describeHttpFailure: ResponseHookFunction = (span, { response }) => {
  if (response.statusCode < 400 || !span.isRecording()) return;
  const message = `${response.statusCode} ${STATUS_CODES[response.statusCode] ?? 'Unknown Status'}`;
  const setStatus = span.setStatus.bind(span);
  span.setStatus = (status) =>
    setStatus(status.code === SpanStatusCode.ERROR && status.message === undefined ? { ...status, message } : status);
};

/** Whether OTEL_LOGS_EXPORTER names an exporter (`otlp`, `console`), not just `none`. */
function logsExported(): boolean {
  return (process.env.OTEL_LOGS_EXPORTER ?? 'none')
    .split(',')
    .some((name) => name.trim() !== '' && name.trim() !== 'none');
}

export function startTelemetrySdk(identity: ServiceIdentity): SdkHandle {
  // Logs reach the stack as JSON on stdout (collected by Alloy). sdk-node would
  // also export them over OTLP by default, and Loki would store every line twice.
  process.env.OTEL_LOGS_EXPORTER ??= 'none';

  // Prometheus pulls these from /metrics/otel on the service's own port, so the
  // exporter's standalone HTTP server stays off.
  const otelMetrics = new PrometheusExporter({ preventServerStart: true });

  const sdk = new NodeSDK({
    // On top of the default resource (telemetry.sdk.*), which a resource of our own would replace.
    resource: defaultResource().merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: identity.name,
        [ATTR_SERVICE_VERSION]: identity.version,
        [ATTR_SERVICE_INSTANCE_ID]: identity.instanceId,
      }),
    ),
    // Synchronous detectors only (an async one, such as the host detector's
    // host.id, is not settled when the first spans and metrics are exported), and
    // envDetector last, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    resourceDetectors: [processDetector, envDetector],
    metricReaders: [otelMetrics],
    instrumentations: createInstrumentations(),
  });
  sdk.start();

  return {
    shutdown: (timeoutMs) => withTimeout(sdk.shutdown(), timeoutMs),
    serveOtelMetrics: (request: IncomingMessage, response: ServerResponse) =>
      otelMetrics.getMetricsRequestHandler(request, response),
  };
}
