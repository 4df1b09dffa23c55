import type { RequestHandler } from 'express';
import client from 'prom-client';
import { LATENCY_BUCKETS, observeWithExemplar, registry } from '../otel/metrics';
import { sampledTraceId } from '../otel/spans';
import { routeTemplate } from './route-template';

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
