import type { RequestHandler } from 'express';
import { counter, histogram, LATENCY_BUCKETS, observeWithExemplar } from '../otel/metrics';
import { sampledTraceId } from '../otel/spans';
import { routeTemplate } from './route-template';

const LABELS = ['method', 'handler', 'status'] as const;

const httpRequestsTotal = counter(
  'http_requests_total',
  'HTTP requests served, by method, route template and status class.',
  LABELS,
);

const httpRequestDuration = histogram(
  'http_request_duration_seconds',
  'Time to serve an HTTP request, by method, route template and status class.',
  { labelNames: LABELS, buckets: LATENCY_BUCKETS, exemplars: true },
);

function statusClass(statusCode: number): string {
  return `${Math.floor(statusCode / 100)}xx`;
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
