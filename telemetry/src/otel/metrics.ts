import client from 'prom-client';

/**
 * The registry behind /metrics. It must be an OpenMetrics registry: prom-client
 * only attaches exemplars (the trace id of a sampled request, next to a latency
 * bucket) to OpenMetrics output, and refuses exemplar-enabled metrics elsewhere.
 * (prom-client, not the OpenTelemetry SDK, because the SDK has no exemplars yet:
 * open-telemetry/opentelemetry-js#5147.)
 */
export const registry = new client.Registry<client.OpenMetricsContentType>();
registry.setContentType(client.openMetricsContentType);

client.collectDefaultMetrics({ register: registry });

/** Seconds; from a fast in-memory lookup to a roll that waited its full delay. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A counter on the /metrics registry, with the labels it is counted by. */
export function counter<T extends string = never>(name: string, help: string, labelNames: readonly T[] = []) {
  return new client.Counter<T>({ name, help, labelNames, registers: [registry] });
}

export interface HistogramOptions<T extends string> {
  labelNames?: readonly T[];
  buckets: number[];
  /** Keep the trace id of a sampled observation next to its bucket (see observeWithExemplar). */
  exemplars?: boolean;
}

/** A histogram on the /metrics registry. */
export function histogram<T extends string = never>(name: string, help: string, options: HistogramOptions<T>) {
  const { labelNames = [], buckets, exemplars = false } = options;
  return new client.Histogram<T>({
    name,
    help,
    labelNames,
    buckets,
    enableExemplars: exemplars,
    registers: [registry],
  });
}

/** A gauge on the /metrics registry. */
export function gauge(name: string, help: string) {
  return new client.Gauge({ name, help, registers: [registry] });
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

/**
 * The values a label fed by requests may take. A value becomes a label value only
 * once something trustworthy has vouched for it (die-service returned the die's
 * specification); anything else a client sends is `unknown`, so no client can
 * create new time series.
 */
export class KnownValues {
  private readonly known = new Set<string>();

  vouchFor(value: string): void {
    this.known.add(value);
  }

  label(value: string): string {
    return this.known.has(value) ? value : 'unknown';
  }
}
