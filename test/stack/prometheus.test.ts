import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, type PrometheusServer, runPromtool } from '../support/prometheus';
import { type Chain, startChain } from '../support/service-process';
import { APP_SERVICES, loadProject } from '../support/stack';
import { STACK_PROMETHEUS_YML, startStackPrometheus } from '../support/stack-prometheus';

/**
 * The stack's Prometheus configuration, checked by promtool and then run by a
 * real Prometheus (the compose version, built by stack/build/build.sh) against
 * the three services started on loopback. The collector's jobs are exercised by
 * test/stack/collector.test.ts.
 */

/** prom-client's default gauges named like counters; promtool flags them, nothing else may be flagged. */
const TOLERATED_LINT =
  /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;

/** The contract's metrics (DESIGN.md), by the job that exposes them. */
const CONTRACT_METRICS: Record<string, string[]> = {
  'die-service': [
    'http_requests_total',
    'http_request_duration_seconds_bucket',
    'die_specifications_requested_total',
    'die_list_requests_total',
    'die_specifications_loaded',
    'process_cpu_seconds_total',
    'nodejs_eventloop_lag_seconds',
  ],
  'dice-roller': [
    'http_requests_total',
    'http_request_duration_seconds_bucket',
    'dice_rolls_total',
    'dice_roll_value_bucket',
    'die_service_requests_total',
    'die_service_request_duration_seconds_bucket',
  ],
  frontend: [
    'http_requests_total',
    'http_request_duration_seconds_bucket',
    'frontend_requests_total',
    'backend_requests_total',
    'backend_request_duration_seconds_bucket',
  ],
};

/** Latency histograms that carry trace ids as exemplars, by job. */
const EXEMPLAR_HISTOGRAMS: [job: string, bucket: string][] = [
  ['die-service', 'http_request_duration_seconds_bucket'],
  ['dice-roller', 'http_request_duration_seconds_bucket'],
  ['dice-roller', 'die_service_request_duration_seconds_bucket'],
  ['frontend', 'http_request_duration_seconds_bucket'],
  ['frontend', 'backend_request_duration_seconds_bucket'],
];

let chain: Chain;
let prometheus: PrometheusServer;
let expectedJobs: string[];
const startedAt = Date.now();

async function roll(die: string): Promise<number> {
  const response = await fetch(`${chain.frontend.url}/roll?die=${die}`);
  await response.arrayBuffer();
  return response.status;
}

beforeAll(async () => {
  chain = await startChain({ ROLL_DELAY_MAX_MS: '20' });
  ({ prometheus, jobs: expectedJobs } = await startStackPrometheus(chain));
  // Traffic the contract's metrics describe: the dice list, successes and failures.
  expect((await fetch(`${chain.frontend.url}/dice`)).status).toBe(200);
  for (let i = 0; i < 5; i++) {
    expect(await roll('fair')).toBe(200);
    await roll('risky');
  }
});

afterAll(async () => {
  await prometheus?.stop();
  await chain?.stop();
});

describe('promtool', () => {
  it('accepts the stack Prometheus configuration', () => {
    const result = runPromtool(['check', 'config', STACK_PROMETHEUS_YML]);
    expect(result.stdout + result.stderr).toContain('SUCCESS');
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it.each(APP_SERVICES)('finds nothing wrong in the classic text of %s /metrics', async (name) => {
    const service = chain.all.find((s) => s.name === name);
    const response = await fetch(`${service?.url}/metrics`, { headers: { accept: 'text/plain' } });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const result = runPromtool(['check', 'metrics'], await response.text());
    const findings = `${result.stdout}${result.stderr}`
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    expect(findings.filter((line) => !TOLERATED_LINT.test(line))).toEqual([]);
    // promtool exits 3 for lint findings alone, 1 for a metrics text it cannot parse.
    expect([0, 3]).toContain(result.status);
  });
});

describe('a real Prometheus running the stack scrape jobs against the services', () => {
  it('is the version the compose file runs', async () => {
    const image = loadProject().services.get('prometheus')?.service.image ?? '';
    const build = await prometheus.api<{ version: string }>('status/buildinfo');
    expect(image).toBe(`prom/prometheus:v${build.version}`);
  });

  it('scrapes every job without errors', async () => {
    const targets = await eventually('every target scraped and up', async () => {
      const active = await prometheus.activeTargets();
      const ready = active.length === expectedJobs.length && active.every((t) => t.health === 'up');
      return ready ? active : undefined;
    });
    expect(targets.map((t) => t.scrapePool).sort()).toEqual([...expectedJobs].sort());
    for (const target of targets) expect(target.lastError, target.scrapeUrl).toBe('');

    const up = await prometheus.query('up');
    expect(Object.fromEntries(up.map((s) => [s.metric.job, s.value[1]]))).toEqual(
      Object.fromEntries(expectedJobs.map((job) => [job, '1'])),
    );
  });

  it('ingests every sample: nothing out of order, duplicated or over a limit', async () => {
    const rejected = await eventually('Prometheus self-metrics scraped', async () => {
      const result = await prometheus.query(
        'sum(prometheus_target_scrapes_sample_out_of_order_total + prometheus_target_scrapes_sample_duplicate_timestamp_total + prometheus_target_scrapes_sample_out_of_bounds_total + prometheus_target_scrapes_exceeded_sample_limit_total)',
      );
      return result[0]?.value[1];
    });
    expect(rejected).toBe('0');
  });

  it.each(Object.entries(CONTRACT_METRICS))('returns the contract metrics of %s', async (job, metrics) => {
    for (const metric of metrics) {
      const samples = await eventually(`${metric}{job="${job}"}`, async () => {
        const result = await prometheus.query(`${metric}{job="${job}"}`);
        return result.length > 0 ? result : undefined;
      });
      expect(samples.length, metric).toBeGreaterThan(0);
    }
  });

  it('has the services counted by outcome: successes and failures of risky rolls', async () => {
    const results = await eventually('dice_rolls_total by result', async () => {
      const samples = await prometheus.query('sum by (die_type, result) (dice_rolls_total{job="dice-roller"})');
      const fair = samples.find((s) => s.metric.die_type === 'fair' && s.metric.result === 'success');
      return fair !== undefined && Number(fair.value[1]) >= 5 ? samples : undefined;
    });
    expect(results.map((s) => s.metric.die_type).sort()).toContain('risky');
  });

  it.each(EXEMPLAR_HISTOGRAMS)('stores exemplars with trace ids on %s %s', async (job, bucket) => {
    const series = await eventually(`exemplars of ${bucket}{job="${job}"}`, async () => {
      const found = await prometheus.exemplars(`${bucket}{job="${job}"}`, (Date.now() - startedAt) / 1000 + 60);
      return found.some((s) => s.exemplars.length > 0) ? found : undefined;
    });
    const exemplars = series.flatMap((s) => s.exemplars);
    expect(exemplars.length).toBeGreaterThan(0);
    for (const exemplar of exemplars) expect(exemplar.labels.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('scrapes the OpenTelemetry SDK metrics of each service from /metrics/otel', async () => {
    for (const service of APP_SERVICES) {
      const samples = await eventually(`target_info{job="${service}-otel"}`, async () => {
        const result = await prometheus.query(`target_info{job="${service}-otel"}`);
        return result.length > 0 ? result : undefined;
      });
      expect(samples[0]?.metric.service_name).toBe(service);
    }
  });
});
