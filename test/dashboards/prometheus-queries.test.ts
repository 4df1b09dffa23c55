import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CollectorProcess, FAST_SPAN_METRICS_FLUSH, startCollector } from '../support/collector';
import {
  allSelection,
  type DashboardQuery,
  interpolate,
  isAboutErrors,
  loadDashboards,
  logqlStreamSelectors,
  matchesAll,
  promqlMetrics,
  queriesOf,
  syntaxErrors,
  TEST_BUILTINS,
  type TraceqlSpan,
  traceqlFields,
  traceqlMatches,
  variablesOf,
} from '../support/dashboards';
import { OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { eventually, type PrometheusServer } from '../support/prometheus';
import { type Chain, startChain } from '../support/service-process';
import { APP_SERVICES } from '../support/stack';
import { startStackPrometheus } from '../support/stack-prometheus';

/**
 * The dashboards against real data: the three services, started as in
 * production, under mixed traffic (every die, failures, unknown dice); the real
 * OpenTelemetry Collector on the shipped configuration between them and an OTLP
 * receiver in Tempo's place; the real Prometheus (the compose version) scraping
 * the services and the collector with the stack's own scrape jobs. Every PromQL
 * expression of every dashboard runs through Prometheus's HTTP API, with
 * Grafana's variables substituted as Grafana would (TEST_BUILTINS for
 * $__rate_interval and co., "All" for the dashboard's own). Each must be valid,
 * and each not about errors must return a series with a value. The TraceQL and
 * LogQL queries meet the services' real spans and log lines. The summary printed
 * at the end lists every query with the number of series it returned.
 */

/**
 * Metrics that nothing here produces: the collector's servicegraph connector,
 * whose Go module this build cannot have (stack/otel-collector/servicegraph.yaml).
 */
const STACK_ONLY = /^traces_service_graph_/;

/** How long one query may take to show data after the services start. */
const DATA_DEADLINE_MS = 30_000;

const dashboards = loadDashboards();
const queries = dashboards.flatMap(queriesOf);
const promQueries = queries.filter((q) => q.language === 'promql');
const variables = dashboards.flatMap((d) => variablesOf(d.dashboard).map((variable) => ({ file: d.file, variable })));

let receiver: OtlpReceiver;
let collector: CollectorProcess;
let chain: Chain;
let prometheus: PrometheusServer;
let traffic: Traffic | undefined;
const startedAt = Date.now();

type Outcome = 'data' | 'errors only: valid, empty' | 'errors only: valid, with data' | 'stack only: valid';
const outcomes = new Map<string, Outcome>();
/** Per query: the expression as run and the number of series it returned. */
const results = new Map<string, { expr: string; series: number }>();

interface Traffic {
  requests: number;
  stop(): Promise<void>;
}

/**
 * Users rolling every die, an unknown one too, singly and in batches, and opening
 * the page, from two loops with a short pause, until stopped.
 */
function driveTraffic(frontendUrl: string): Traffic {
  const dice = ['fair', 'risky', 'extreme', 'no-such-die'];
  let running = true;
  const state: Traffic = {
    requests: 0,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
  const get = async (path: string) => {
    try {
      const response = await fetch(`${frontendUrl}${path}`, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
    } catch {
      // A slow answer on a busy machine; the next request will do.
    }
    state.requests++;
  };
  const loop = async (offset: number) => {
    for (let i = offset; running; i++) {
      await get(`/roll?die=${dice[i % dice.length]}`);
      // A batch of 1 to 5 concurrent rolls every third request (the concurrent-rolls row).
      if (i % 3 === 0) await get(`/roll-async?die=${dice[i % dice.length]}&times=${(i % 5) + 1}`);
      if (i % 20 === 0) await Promise.all([get('/'), get('/dice')]);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  const loops = [loop(0), loop(1)];
  return state;
}

beforeAll(async () => {
  receiver = new OtlpReceiver();
  collector = await startCollector({ tempoEndpoint: await receiver.start(), set: [FAST_SPAN_METRICS_FLUSH] });
  chain = await startChain({ ROLL_DELAY_MAX_MS: '20', OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpEndpoint });
  ({ prometheus } = await startStackPrometheus(chain, '1s', collector.ports));
  traffic = driveTraffic(chain.frontend.url);
  // Every target scraped, every die rolled and failed: from here on, the data the
  // dashboards show exists, and the rate windows fill within seconds.
  await eventually(
    'every target up, every die rolled, failures counted',
    async () => {
      const targets = await prometheus.activeTargets();
      if (!targets.every((t) => t.health === 'up')) return undefined;
      const dice = await prometheus.query('sum by (die_type, result) (dice_rolls_total)');
      const seen = new Set(dice.map((s) => `${s.metric.die_type} ${s.metric.result}`));
      return ['fair success', 'risky success', 'extreme success', 'extreme error'].every((k) => seen.has(k))
        ? true
        : undefined;
    },
    { timeoutMs: 60_000 },
  );
}, 120_000);

afterAll(async () => {
  await traffic?.stop();
  await prometheus?.stop();
  await chain?.stop();
  await collector?.stop();
  await receiver?.stop();
  if (outcomes.size > 0) {
    const lines = [...outcomes].map(([name, outcome]) => {
      const result = results.get(name);
      return `  ${outcome.padEnd(30)} ${String(result?.series ?? 0).padStart(3)} series  ${name}\n      ${result?.expr}`;
    });
    console.info(`PromQL of the dashboards against real data (${traffic?.requests} requests):\n${lines.join('\n')}`);
  }
}, 60_000);

// ---- Prometheus's HTTP API ----

interface ApiAnswer {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
  };
}

/** Thrown for a query Prometheus refuses: no point waiting for it to become valid. */
class InvalidQuery extends Error {}

async function run(expr: string, instant: boolean): Promise<NonNullable<ApiAnswer['data']>> {
  const now = Date.now() / 1000;
  const params = instant
    ? { query: expr, time: String(now) }
    : { query: expr, start: String(Math.max(startedAt / 1000, now - 60)), end: String(now), step: '2' };
  const response = await fetch(`${prometheus.url}/api/v1/${instant ? 'query' : 'query_range'}`, {
    method: 'POST',
    body: new URLSearchParams(params),
    signal: AbortSignal.timeout(10_000),
  });
  const answer = (await response.json()) as ApiAnswer;
  if (answer.status !== 'success' || answer.data === undefined) {
    const message = `Prometheus refused ${expr}: ${answer.errorType}: ${answer.error}`;
    throw answer.errorType === 'bad_data' ? new InvalidQuery(message) : new Error(message);
  }
  return answer.data;
}

/** Whether a result holds at least one series with a finite value. */
function hasValues(data: NonNullable<ApiAnswer['data']>): boolean {
  return data.result.some((series) =>
    [...(series.value === undefined ? [] : [series.value]), ...(series.values ?? [])].some(([, v]) =>
      Number.isFinite(Number(v)),
    ),
  );
}

async function metricNames(): Promise<Set<string>> {
  return new Set(await prometheus.api<string[]>('label/__name__/values'));
}

/** Polls like `eventually`, but a query Prometheus refuses fails at once. */
function untilValid<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  return eventually(what, probe, {
    timeoutMs: DATA_DEADLINE_MS,
    intervalMs: 500,
    isFinal: (error) => error instanceof InvalidQuery,
  });
}

// ---- Grafana's variables, resolved against the real data ----

let resolved: Promise<Map<string, Record<string, string>>> | undefined;

/**
 * The value of every variable with "All" selected, per dashboard file: query
 * variables take the values their `label_values(...)` finds in Prometheus.
 */
function variableValues(): Promise<Map<string, Record<string, string>>> {
  resolved ??= (async () => {
    const byFile = new Map<string, Record<string, string>>();
    for (const { file, variable } of variables) {
      const values = byFile.get(file) ?? { ...TEST_BUILTINS };
      byFile.set(file, values);
      if (variable.type === 'custom') {
        values[variable.name] = allSelection(variable, String(variable.query).split(','));
      } else if (variable.type === 'query' && variable.datasource?.uid === 'prometheus') {
        values[variable.name] = allSelection(variable, await labelValues(String(variable.query)));
      } else {
        throw new Error(`${file}: variable ${variable.name} of type ${variable.type} that no check knows`);
      }
    }
    return byFile;
  })();
  return resolved;
}

/** `label_values(metric, label)` through the API Grafana itself calls for it. */
async function labelValues(query: string): Promise<string[]> {
  const match = /^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(query);
  if (match === null) throw new Error(`not a label_values(metric, label) query: ${query}`);
  const [, metric, label] = match as unknown as [string, string, string];
  return eventually(`${query} has values`, async () => {
    const values = await prometheus.api<string[]>(`label/${label}/values`, { 'match[]': metric });
    return values.length > 0 ? values : undefined;
  });
}

async function substituted(q: DashboardQuery): Promise<string> {
  return interpolate(q.text, (await variableValues()).get(q.file) ?? {});
}

// ---- the tests ----

describe('the dashboard variables, against the real data', () => {
  it('label_values(http_requests_total, job) lists the three services', async () => {
    expect((await labelValues('label_values(http_requests_total, job)')).sort()).toEqual([...APP_SERVICES].sort());
  });

  it('label_values(dice_rolls_total, die_type) lists every die rolled', async () => {
    const dice = await eventually('every die rolled', async () => {
      const values = await labelValues('label_values(dice_rolls_total, die_type)');
      return ['fair', 'risky', 'extreme'].every((die) => values.includes(die)) ? values : undefined;
    });
    expect(dice).toEqual(expect.arrayContaining(['fair', 'risky', 'extreme']));
  });

  it('every query variable of every dashboard finds values', async () => {
    const values = await variableValues();
    for (const { file, variable } of variables) expect(values.get(file)?.[variable.name], variable.name).toBeTruthy();
  });
});

describe('every PromQL expression of the dashboards, on real data', () => {
  it.each(promQueries.map((q) => [q.name, q] as const))('%s', async (_name, q) => {
    const expr = await substituted(q);
    expect(syntaxErrors('promql', expr), expr).toEqual([]);
    const instant = q.target.instant === true;
    const outcome = await untilValid<Outcome>(`${q.name}: ${expr}`, async () => {
      const names = await metricNames();
      const missing = promqlMetrics(expr).filter((metric) => !names.has(metric));
      const data = await run(expr, instant); // valid, whatever else is true
      results.set(q.name, { expr, series: data.result.length });
      if (missing.length > 0) {
        // Produced only by the full stack's collector: valid is all we can know here.
        if (missing.every((metric) => STACK_ONLY.test(metric))) return 'stack only: valid';
        return undefined; // a metric no service exposes (yet): wait, then fail naming it
      }
      if (isAboutErrors(expr)) return hasValues(data) ? 'errors only: valid, with data' : 'errors only: valid, empty';
      return hasValues(data) ? 'data' : undefined;
    }).catch(async (error: unknown) => {
      const names = await metricNames();
      const missing = promqlMetrics(expr).filter((metric) => !names.has(metric));
      throw new Error(
        `${error instanceof Error ? error.message : error}${missing.length > 0 ? `\nmetrics no service exposes: ${missing.join(', ')}` : '\nno series with a value'}`,
      );
    });
    outcomes.set(q.name, outcome);
  });

  it('leaves only the service-graph metrics unchecked for data', () => {
    const stackOnly = [...outcomes].filter(([, outcome]) => outcome === 'stack only: valid').map(([name]) => name);
    for (const name of stackOnly) {
      const q = promQueries.find((query) => query.name === name);
      expect(
        promqlMetrics(q?.text ?? '').some((metric) => STACK_ONLY.test(metric)),
        name,
      ).toBe(true);
    }
    // Most of the dashboard is proven on data; the rest is listed in the summary.
    expect(outcomes.size).toBe(promQueries.length);
    expect(stackOnly.length).toBeLessThan(promQueries.length / 5);
  });
});

describe('the exemplars of the latency panels', () => {
  const withExemplars = promQueries.filter((q) => q.target.exemplar === true);

  it.each(withExemplars.map((q) => [q.name, q] as const))('%s has trace ids of exported traces', async (_name, q) => {
    const expr = await substituted(q);
    if (promqlMetrics(expr).some((metric) => STACK_ONLY.test(metric))) return; // not produced here
    const traceIds = await eventually(`exemplars of ${expr}`, async () => {
      const now = Date.now() / 1000;
      const series = await prometheus.api<{ exemplars: { labels: Record<string, string> }[] }[]>('query_exemplars', {
        query: expr,
        start: String(startedAt / 1000 - 60),
        end: String(now + 60),
      });
      const ids = series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id ?? ''));
      return ids.length > 0 ? ids : undefined;
    });
    for (const id of traceIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
    // "View trace" finds something: the trace the exemplar names was exported.
    const [first] = traceIds;
    await receiver.waitFor((spans) => (spans.some((span) => span.traceId === first) ? true : undefined));
  });
});

describe('the TraceQL queries, against the spans the services send', () => {
  const traceQueries = queries.filter((q) => q.language === 'traceql');

  function asTraceql(span: ReceivedSpan): TraceqlSpan {
    return {
      name: span.name,
      kind: span.kind,
      status: span.status.code,
      attributes: span.attributes,
      resource: span.resource,
    };
  }

  it.each(traceQueries.map((q) => [q.name, q] as const))('%s finds spans', async (_name, q) => {
    const query = await substituted(q);
    const matching = await receiver.waitFor((spans) => {
      const found = spans.filter((span) => traceqlMatches(query, asTraceql(span)));
      return found.length > 0 ? found : undefined;
    });
    expect(matching.length).toBeGreaterThan(0);
    // Every attribute it names is on the spans (resource.service.name, span.die.type, ...).
    for (const field of traceqlFields(query).filter((f) => f.includes('.'))) {
      const [scope, ...rest] = field.split('.');
      const key = rest.join('.');
      const present = receiver.spans.some((span) =>
        scope === 'resource'
          ? key in span.resource
          : scope === 'span'
            ? key in span.attributes
            : key in span.attributes || key in span.resource,
      );
      expect(present, field).toBe(true);
    }
  });
});

describe('the LogQL queries, against the lines the services log', () => {
  const logQueries = queries.filter((q) => q.language === 'logql');

  /** Each line with the labels Alloy would give its stream: the compose service name (= service.name) and its level. */
  function streams(): Record<string, string>[] {
    return chain.all.flatMap((service) => service.logs.map((line) => ({ service: service.name, level: line.level })));
  }

  it.each(logQueries.map((q) => [q.name, q] as const))('%s selects log lines', async (_name, q) => {
    const expr = await substituted(q);
    await eventually(`log lines for ${expr}`, async () => {
      const lines = streams();
      return logqlStreamSelectors(expr).every((matchers) => lines.some((labels) => matchesAll(labels, matchers)))
        ? true
        : undefined;
    });
  });

  it('the level variable offers every level the services log', () => {
    const levels = new Set(streams().map((labels) => labels.level));
    const offered = variables.find(({ variable }) => variable.name === 'level')?.variable.query;
    for (const level of levels) expect(String(offered).split(','), level).toContain(level);
  });
});
