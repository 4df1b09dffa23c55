import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  COLLECTOR_BIN,
  COLLECTOR_CONFIG,
  COLLECTOR_SERVICEGRAPH_CONFIG,
  type CollectorProcess,
  collectorPorts,
  FAST_SPAN_METRICS_FLUSH,
  loopbackOverrides,
  startCollector,
  validateCollectorConfig,
} from '../support/collector';
import { OtlpReceiver } from '../support/otlp-receiver';
import { eventually, type PrometheusServer, type Sample } from '../support/prometheus';
import { type Chain, startChain } from '../support/service-process';
import { APP_SERVICES, loadProject, STACK_DIR } from '../support/stack';
import { startStackPrometheus } from '../support/stack-prometheus';

/**
 * The real OpenTelemetry Collector, built from the Go modules of the release the
 * compose file pins (stack/build/build.sh), running the shipped
 * stack/otel-collector/config.yaml with only its addresses moved to loopback:
 * the three services send to it, a test OTLP receiver stands in for Tempo, and
 * the real Prometheus scrapes the span metrics with the stack's own jobs.
 */

/** Server and client spans of one roll: frontend -> dice-roller -> die-service. */
const SPANS_PER_ROLL = 5;

const receiver = new OtlpReceiver();
let tempoEndpoint: string;
let collector: CollectorProcess;
let chain: Chain;
let prometheus: PrometheusServer;
/** What the rolls answered, counted by the test itself. */
const answered = { fair: 0, riskyOk: 0, riskyFailed: 0 };

async function roll(die: string): Promise<{ status: number; traceId: string }> {
  const response = await fetch(`${chain.frontend.url}/roll?die=${die}`, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { trace_id?: string };
  return { status: response.status, traceId: body.trace_id ?? '' };
}

beforeAll(async () => {
  tempoEndpoint = await receiver.start();
  collector = await startCollector({ tempoEndpoint, set: [FAST_SPAN_METRICS_FLUSH] });
  chain = await startChain({ ROLL_DELAY_MAX_MS: '20', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpEndpoint });
  ({ prometheus } = await startStackPrometheus(chain, '1s', collector.ports));
}, 60_000);

afterAll(async () => {
  await prometheus?.stop();
  await chain?.stop();
  await collector?.stop();
  await receiver.stop();
}, 30_000);

describe('the collector binary and the shipped configuration', () => {
  it('is the release the compose file runs, with the components of its manifest at that release', () => {
    const image = loadProject().services.get('otel-collector')?.service.image ?? '';
    const release = image.split(':')[1] ?? '';
    const version = spawnSync(COLLECTOR_BIN, ['--version'], { encoding: 'utf8' }).stdout.trim();
    expect(version).toBe(`otelcol-dice-roller version ${release}`);
    const manifest = parseYaml(
      readFileSync(path.join(STACK_DIR, 'build', 'collector', 'manifest.yaml'), 'utf8'),
    ) as Record<string, { gomod: string }[]>;
    for (const kind of ['receivers', 'processors', 'exporters', 'connectors']) {
      for (const { gomod } of manifest[kind] ?? []) expect(gomod.split(' ')[1], gomod).toBe(`v${release}`);
    }
  });

  it('validates the shipped config.yaml as it is, and with the loopback addresses', async () => {
    const plain = validateCollectorConfig([COLLECTOR_CONFIG]);
    expect(plain.status, plain.stderr).toBe(0);
    const moved = validateCollectorConfig([COLLECTOR_CONFIG], loopbackOverrides(await collectorPorts(), tempoEndpoint));
    expect(moved.status, moved.stderr).toBe(0);
  });

  it('rejects config.yaml with servicegraph.yaml for one reason only: this build has no servicegraph connector', () => {
    // Its Go module is not available here (stack/build/README.md); the contrib image has it.
    const both = validateCollectorConfig([COLLECTOR_CONFIG, COLLECTOR_SERVICEGRAPH_CONFIG]);
    expect(both.status).not.toBe(0);
    const errors = both.stderr.split('\n').filter((line) => /unknown type|error/i.test(line));
    expect(errors.join('\n')).toContain(`'connectors' unknown type: "servicegraph"`);
    expect(
      errors.filter((line) => !line.includes('servicegraph') && !line.startsWith('Error: failed to get config')),
    ).toEqual([]);
  });
});

describe('services -> collector -> Tempo (a test receiver in its place)', () => {
  it('delivers one roll as one complete trace, with its resource attributes', async () => {
    const { status, traceId } = await roll('fair');
    expect(status).toBe(200);
    answered.fair++;
    const spans = await receiver.waitForTrace(traceId, SPANS_PER_ROLL);
    expect(spans).toHaveLength(SPANS_PER_ROLL);
    const kinds = spans.map((span) => `${span.service} ${span.kind}`).sort();
    expect(kinds).toEqual([
      'dice-roller client',
      'dice-roller server',
      'die-service server',
      'frontend client',
      'frontend server',
    ]);
    const ids = new Set(spans.map((span) => span.spanId));
    const roots = spans.filter((span) => span.parentSpanId === undefined);
    expect(roots.map((span) => `${span.service} ${span.name}`)).toEqual(['frontend GET /roll']);
    for (const span of spans.filter((s) => s.parentSpanId !== undefined)) {
      expect(ids.has(span.parentSpanId as string), `${span.service} ${span.name} has its parent in the trace`).toBe(
        true,
      );
    }
    for (const span of spans) {
      expect(span.resource).toMatchObject({
        'service.name': span.service,
        'service.version': '1.0.0',
        'process.runtime.name': 'nodejs',
      });
      expect(span.resource['process.pid']).toEqual(expect.any(Number));
      expect(span.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

// ---- the span metrics, through the real Prometheus ----

function byLabels(samples: Sample[], ...labels: string[]): Map<string, number> {
  return new Map(samples.map((s) => [labels.map((l) => s.metric[l] ?? '').join(' '), Number(s.value[1])]));
}

/** Waits until `expression` gives, for every key of `expected`, at least the expected value. */
async function reaches(
  expression: string,
  labels: string[],
  expected: Record<string, number>,
): Promise<Map<string, number>> {
  return eventually(
    `${expression} reaches ${JSON.stringify(expected)}`,
    async () => {
      const values = byLabels(await prometheus.query(expression), ...labels);
      return Object.entries(expected).every(([key, value]) => (values.get(key) ?? 0) >= value) ? values : undefined;
    },
    { timeoutMs: 45_000, intervalMs: 500 },
  );
}

describe('span metrics from the collector, scraped by Prometheus with the stack job', () => {
  beforeAll(async () => {
    for (let i = 0; i < 10; i++) {
      const fair = await roll('fair');
      expect(fair.status).toBe(200);
      answered.fair++;
      const risky = await roll('risky');
      if (risky.status === 200) answered.riskyOk++;
      else answered.riskyFailed++;
    }
    // Every span of these rolls has reached the collector before we count.
    await receiver.waitFor((spans) =>
      spans.filter((s) => s.service === 'frontend' && s.kind === 'server' && s.name === 'GET /roll').length >=
      answered.fair + answered.riskyOk + answered.riskyFailed
        ? true
        : undefined,
    );
  }, 60_000);

  it('scrapes the collector: both its jobs up', async () => {
    const up = await eventually('collector jobs up', async () => {
      const samples = await prometheus.query('up{job=~"otel-collector|span-metrics"}');
      return samples.length === 2 && samples.every((s) => s.value[1] === '1') ? samples : undefined;
    });
    expect(up.map((s) => s.metric.job).sort()).toEqual(['otel-collector', 'span-metrics']);
  });

  it('counts the server spans of every service and route: one per request, under job = service', async () => {
    const rolls = answered.fair + answered.riskyOk + answered.riskyFailed;
    const counts = await reaches(
      'sum by (job, service_name, span_name) (traces_span_metrics_calls_total{span_kind="SPAN_KIND_SERVER"})',
      ['job', 'service_name', 'span_name'],
      {
        'frontend frontend GET /roll': rolls,
        'dice-roller dice-roller GET /roll': rolls,
        'die-service die-service GET /dice': rolls,
      },
    );
    // Exactly the requests made: nothing counted twice, no raw URL as a span name.
    expect(counts.get('frontend frontend GET /roll')).toBe(rolls);
    expect(counts.get('dice-roller dice-roller GET /roll')).toBe(rolls);
    for (const key of counts.keys()) expect(key).not.toMatch(/\?|die=/);
  });

  it('counts the calls along frontend -> dice-roller -> die-service: one each per roll', async () => {
    const rolls = answered.fair + answered.riskyOk + answered.riskyFailed;
    const counts = await reaches(
      'sum by (service_name, span_kind) (traces_span_metrics_calls_total)',
      ['service_name', 'span_kind'],
      {
        'frontend SPAN_KIND_CLIENT': rolls,
        'dice-roller SPAN_KIND_CLIENT': rolls,
        'die-service SPAN_KIND_SERVER': rolls,
      },
    );
    // dice-roller is called by the frontend only, and calls die-service once per roll.
    expect(counts.get('dice-roller SPAN_KIND_SERVER')).toBe(rolls);
    expect(counts.get('dice-roller SPAN_KIND_CLIENT')).toBe(rolls);
    // Every other call the frontend made went to die-service (its dice list): each
    // client span has exactly one server span on the other side.
    const frontendToDieService = (counts.get('frontend SPAN_KIND_CLIENT') ?? 0) - rolls;
    expect(counts.get('die-service SPAN_KIND_SERVER')).toBe(rolls + frontendToDieService);
  });

  it('counts the failed rolls as errors, on the spans that failed', async () => {
    expect(answered.riskyFailed + answered.riskyOk).toBe(10);
    const errors = await eventually(
      'error spans counted',
      async () => {
        const samples = await prometheus.query(
          'sum by (service_name, span_kind) (traces_span_metrics_calls_total{status_code="STATUS_CODE_ERROR"})',
        );
        const values = byLabels(samples, 'service_name', 'span_kind');
        return (values.get('dice-roller SPAN_KIND_SERVER') ?? 0) >= answered.riskyFailed ? values : undefined;
      },
      { timeoutMs: 45_000, intervalMs: 500 },
    );
    // risky fails 10 % of the time: maybe not in these ten rolls; then nothing is an error.
    expect(errors.get('dice-roller SPAN_KIND_SERVER') ?? 0).toBe(answered.riskyFailed);
    expect(errors.get('frontend SPAN_KIND_SERVER') ?? 0).toBe(answered.riskyFailed);
    expect(errors.get('die-service SPAN_KIND_SERVER') ?? 0).toBe(0);
  });

  it('measures the latency of every service and span, in seconds, with exemplars of exported traces', async () => {
    const p95 = await eventually('span latency p95 per service', async () => {
      const samples = await prometheus.query(
        // Over the counts themselves: the rolls were made before the series first appeared.
        'histogram_quantile(0.95, sum by (le, service_name) (traces_span_metrics_duration_seconds_bucket{span_kind="SPAN_KIND_SERVER"}))',
      );
      const values = byLabels(samples, 'service_name');
      return APP_SERVICES.every((s) => Number.isFinite(values.get(s))) ? values : undefined;
    });
    for (const service of APP_SERVICES) {
      expect(p95.get(service), service).toBeGreaterThan(0);
      expect(p95.get(service), service).toBeLessThan(5); // seconds, not milliseconds
    }
    const exemplars = await eventually('span metric exemplars', async () => {
      // The connector hands each exemplar to one flush only, which a scrape may miss:
      // a fresh roll each time gives every scrape new ones to find.
      expect((await roll('fair')).status).toBe(200);
      const series = await prometheus.exemplars('traces_span_metrics_duration_seconds_bucket', 300);
      const found = series.flatMap((s) => s.exemplars);
      return found.length > 0 ? found : undefined;
    });
    // Each exemplar names a trace the collector also exported (in Tempo's place).
    for (const exemplar of exemplars) {
      const traceId = exemplar.labels.trace_id ?? '';
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(await receiver.waitForTrace(traceId, 1, 10_000)).not.toHaveLength(0);
    }
  });
});

describe('the collector down, then back', () => {
  it('gets the services spans again, without restarting them', async () => {
    const pids = chain.all.map((service) => service.pid);
    await collector.stop();
    // The services keep answering while their exporter cannot reach the collector.
    for (let i = 0; i < 3; i++) expect((await roll('fair')).status).toBe(200);
    collector = await startCollector({ tempoEndpoint, ports: collector.ports, set: [FAST_SPAN_METRICS_FLUSH] });
    const after = await eventually(
      'a roll traced through the restarted collector',
      async () => {
        const { status, traceId } = await roll('fair');
        expect(status).toBe(200);
        return receiver.waitForTrace(traceId, SPANS_PER_ROLL, 3_000).catch(() => undefined);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(after).toHaveLength(SPANS_PER_ROLL);
    expect(chain.all.map((service) => service.pid)).toEqual(pids);
  });
});
