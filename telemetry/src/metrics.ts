import type { RequestHandler } from 'express';
import client from 'prom-client';
import { sampledTraceId } from './request-span';
import { routeTemplate } from './route-template';

/**
 * The registry behind /metrics. It must be an OpenMetrics registry: prom-client
 * only attaches exemplars (the trace id of a sampled request, next to a latency
 * bucket) to OpenMetrics output, and refuses exemplar-enabled metrics elsewhere.
 */
export const registry = new client.Registry<client.OpenMetricsContentType>();
registry.setContentType(client.openMetricsContentType);

client.collectDefaultMetrics({ register: registry });

/** Seconds; from a fast in-memory lookup to a roll that waited its full delay. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const httpRequestsTotal = new client.Counter({
  name: 'http_requests_total',
  help: 'HTTP requests served, by method, route template and status class.',
  labelNames: ['method', 'handler', 'status'] as const,
  registers: [registry],
});

const httpRequestDuration = new client.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to serve an HTTP request, by method, route template and status class.',
  labelNames: ['method', 'handler', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  enableExemplars: true,
  registers: [registry],
});

function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
}

/**
 * Records one observation on a histogram created with `enableExemplars`. The trace
 * id becomes the bucket's exemplar only when the request was sampled, so every
 * exemplar links to a trace the backend actually stored.
 */
export function observeWithExemplar<T extends string>(
  histogram: client.Histogram<T>,
  labels: client.LabelValues<T>,
  seconds: number,
  traceId: string | undefined,
): void {
  // prom-client types exemplar labels as the metric's own labels; they are free-form.
  const exemplarLabels = (traceId === undefined ? {} : { trace_id: traceId }) as client.LabelValues<T>;
  histogram.observe({ labels, value: seconds, exemplarLabels });
}

/** RED metrics for every request that reaches it: rate, errors (status class), duration. */
export function httpMetricsMiddleware(): RequestHandler {
  return (req, res, next) => {
    const start = process.hrtime.bigint();
    const traceId = sampledTraceId();
    // 'close' rather than 'finish': it also fires when the client gives up before
    // the answer, and those slow requests are the ones a latency graph must show.
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const labels = {
        method: req.method,
        handler: routeTemplate(req, res) ?? 'unmatched',
        status: statusClass(res.statusCode),
      };
      httpRequestsTotal.inc(labels);
      observeWithExemplar(httpRequestDuration, labels, seconds, traceId);
    });
    next();
  };
}
