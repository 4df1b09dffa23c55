import type { Request, Response } from 'express';
import client from 'prom-client';
import { registry } from '../otel/metrics';

/** The part of a prom-client metric a registry reads to render it (its typings omit some). */
interface MetricSnapshot {
  name: string;
  type: string;
}
interface RenderableMetric {
  name: string;
  get(): Promise<MetricSnapshot>;
  getForPromString?(): Promise<MetricSnapshot>;
}

/**
 * prom-client 15 renders one registry in one format, and its OpenMetrics render
 * renames counters in place (`http_requests_total` becomes `http_requests`, the
 * suffix then being added per sample). Rendering the classic format from that
 * same registry would then drop `_total`. So the classic text is rendered by a
 * throw-away registry over read-only views of the same metrics, which restore the
 * counter suffix and never touch the originals.
 */
function classicView(metric: RenderableMetric): RenderableMetric {
  const snapshot = async (): Promise<MetricSnapshot> => {
    const data = await (metric.getForPromString?.() ?? metric.get());
    return data.type === 'counter' && !data.name.endsWith('_total') ? { ...data, name: `${data.name}_total` } : data;
  };
  return { name: metric.name, get: snapshot };
}

async function renderClassicText(): Promise<string> {
  const classic = new client.Registry();
  for (const metric of registry.getMetricsAsArray() as unknown as RenderableMetric[]) {
    classic.registerMetric(classicView(metric) as unknown as client.Metric);
  }
  return classic.metrics();
}

/**
 * GET /metrics: OpenMetrics (with exemplars) when the scraper asks for it, as
 * Prometheus does; the classic text format otherwise, which curl and
 * `promtool check metrics` read.
 */
export async function serveMetrics(req: Request, res: Response): Promise<void> {
  // The offers carry versions because an Accept entry with parameters (Prometheus
  // sends `application/openmetrics-text;version=1.0.0`) only matches an offer with
  // the same parameters. The first offer wins for `*/*`, as curl sends.
  const chosen = req.accepts([
    'text/plain; version=0.0.4',
    'application/openmetrics-text; version=1.0.0',
    'application/openmetrics-text; version=0.0.1',
  ]);
  const wantsOpenMetrics = typeof chosen === 'string' && chosen.startsWith('application/openmetrics-text');
  if (wantsOpenMetrics) {
    res.type(client.openMetricsContentType).send(await registry.metrics());
  } else {
    res.type(client.prometheusContentType).send(await renderClassicText());
  }
}
