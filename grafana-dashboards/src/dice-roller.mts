/**
 * "Dice Roller — Three Services": the dashboard people open first. One row per
 * question, in this order: overview (RED per service), die-service, service to
 * service, dice-roller, frontend, runtime, logs, traces.
 *
 * Every query names metrics and labels the services really expose (each
 * service's src/metrics.ts; the root README, "The telemetry, and how it is
 * made"); test/dashboards/ runs each PromQL expression against a
 * real Prometheus scraping the real services, and parses every LogQL and TraceQL
 * query. Edit here, then `node grafana-dashboards/src/generate.mts`.
 */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import {
  cell,
  distributionPanel,
  layOut,
  logql,
  logsPanel,
  PROMETHEUS,
  promql,
  type Row,
  SCHEMA_VERSION,
  serviceGraphPanel,
  statPanel,
  type TimeseriesOptions,
  thresholds,
  timeseriesPanel,
  traceql,
  traceqlMetrics,
  tracesTablePanel,
} from './grafana.mts';

// Grafana expands `$service` in a PromQL or LogQL matcher to `(a|b|c)` for several
// values; `$die` and `$level` expand to their `allValue` (a regex matching all) when
// "All" is selected, so that `unknown` and any die added later are included.
const SERVICE = 'job=~"$service"';
const DIE = 'die_type=~"$die"';
const RATE = '[$__rate_interval]';
// In TraceQL, `${service:regex}` asks Grafana for the regex form `(a|b|c)` explicitly.
const TRACE_SERVICE = `resource.service.name =~ "\${service:regex}"`;
// The OpenTelemetry SDK metrics of the selected services: jobs `<service>-otel`.
const OTEL_JOB = `job=~"\${service}-otel"`;
// The server spans of the selected services in the collector's span metrics.
const SERVER_SPANS = 'span_kind="SPAN_KIND_SERVER", service_name=~"$service"';

/** `histogram_quantile` over a latency histogram's buckets, summed by `by` (and `le`). */
function quantile(q: number, bucket: string, selector: string, by: string[] = []): string {
  const series = selector === '' ? bucket : `${bucket}{${selector}}`;
  return `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (rate(${series}${RATE})))`;
}

/** p50, p95 and p99 of one latency histogram; exemplars on the first only, so each shows once. */
function percentiles(bucket: string, selector: string) {
  return [
    promql(quantile(0.5, bucket, selector), 'p50', { exemplar: true }),
    promql(quantile(0.95, bucket, selector), 'p95'),
    promql(quantile(0.99, bucket, selector), 'p99'),
  ];
}

/**
 * p95 and p50 of one latency histogram, with exemplars on the p95 (unless
 * `exemplars` is false); legends `p95`, `p50`, after `name` when there is one.
 */
function p95AndP50(bucket: string, selector: string, { name = '', exemplars = true } = {}) {
  const legend = (quantileName: string) => (name === '' ? quantileName : `${name} ${quantileName}`);
  return [
    promql(quantile(0.95, bucket, selector), legend('p95'), { exemplar: exemplars }),
    promql(quantile(0.5, bucket, selector), legend('p50')),
  ];
}

/**
 * The share of `counter` matching `part`, by `by`: 0 (not "No data") where
 * nothing matched but there was traffic, because `or` fills the gaps with zeros.
 */
function ratio(counter: string, selector: string, part: string, by: string): string {
  const total = `sum by (${by}) (rate(${counter}{${selector}}${RATE}))`;
  const matching = `sum by (${by}) (rate(${counter}{${selector}, ${part}}${RATE}))`;
  return `(${matching} or ${total} * 0) / ${total}`;
}

const LATENCY_DESCRIPTION =
  'Quantiles estimated from the histogram buckets (0.005 s to 10 s). The diamonds are exemplars: requests the service traced, with their trace id; hover one and choose "View trace" to open it in Tempo.';

/** The requests `job` answered per second, by route template and status class, stacked. */
function requestsByRoutePanel(job: string, description: string) {
  return timeseriesPanel({
    title: 'Requests by route and status',
    description,
    unit: 'reqps',
    stack: true,
    queries: [
      promql(`sum by (handler, status) (rate(http_requests_total{job="${job}"}${RATE}))`, '{{handler}} {{status}}'),
    ],
  });
}

/** A panel of latencies: seconds from zero, its description followed by how to read the quantiles and exemplars. */
function latencyPanel(options: Pick<TimeseriesOptions, 'title' | 'description' | 'queries'>) {
  return timeseriesPanel({
    ...options,
    description: `${options.description} ${LATENCY_DESCRIPTION}`,
    unit: 's',
    min: 0,
  });
}

const ERROR_RATIO_STEPS = thresholds(
  { value: null, color: 'green' },
  { value: 0.05, color: 'orange' },
  { value: 0.25, color: 'red' },
);

// ---- rows ----

const overview: Row = {
  title: 'Overview: rate, errors and latency of each service',
  collapsed: false,
  cells: [
    cell(
      timeseriesPanel({
        title: 'Request rate by service',
        description:
          'HTTP requests each service answered per second, every route (the probes and scrapes of /health, /ready and /metrics are not counted). A roll through the frontend is one request in each service: the three lines move together.',
        unit: 'reqps',
        queries: [promql(`sum by (job) (rate(http_requests_total{${SERVICE}}${RATE}))`, '{{job}}')],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Error ratio by service (5xx)',
        description:
          "Share of each service's responses that were server errors (5xx). Failed rolls are 5xx in dice-roller and in the frontend, which passes dice-roller's answer on; die-service only fails when it is broken. Unknown dice are 404s, client errors, not counted here.",
        unit: 'percentunit',
        min: 0,
        thresholds: ERROR_RATIO_STEPS,
        queries: [promql(ratio('http_requests_total', SERVICE, 'status="5xx"', 'job'), '{{job}}')],
      }),
      8,
      8,
    ),
    cell(
      latencyPanel({
        title: 'p95 latency by service',
        description:
          "95th percentile of the time each service took to answer. The frontend includes dice-roller, which includes die-service and the roll's random delay.",
        queries: [
          promql(quantile(0.95, 'http_request_duration_seconds_bucket', SERVICE, ['job']), '{{job}}', {
            exemplar: true,
          }),
        ],
      }),
      8,
      8,
    ),
    cell(
      latencyPanel({
        title: 'Latency percentiles: $service',
        description: 'p50, p95 and p99 of the time $service took to answer, one panel per selected service.',
        queries: percentiles('http_request_duration_seconds_bucket', SERVICE),
      })
        .repeat('service')
        .repeatDirection('h')
        .maxPerRow(3),
      8,
      8,
    ),
  ],
};

const dieService: Row = {
  title: 'die-service: the dice specifications',
  collapsed: true,
  cells: [
    cell(
      requestsByRoutePanel(
        'die-service',
        'Requests die-service answered per second, by route template and status class. GET /dice?identifier=... is one per roll (dice-roller asks for the specification each time); GET /dice alone is the list the frontend shows.',
      ),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Specifications requested by identifier',
        description:
          'Requests for one die specification per second, by identifier ("unknown" for any name die-service does not know: a client cannot create new series), and requests for the list of dice.',
        unit: 'reqps',
        queries: [
          promql(
            `sum by (identifier) (rate(die_specifications_requested_total{identifier=~"$die"}${RATE}))`,
            '{{identifier}}',
          ),
          promql(`sum(rate(die_list_requests_total${RATE}))`, 'list of dice'),
        ],
      }),
      6,
      8,
    ),
    cell(
      latencyPanel({
        title: 'Latency percentiles',
        description: 'How long die-service took to answer: an in-memory lookup, so milliseconds.',
        queries: percentiles('http_request_duration_seconds_bucket', 'job="die-service"'),
      }),
      6,
      8,
    ),
    cell(
      statPanel({
        title: 'Specifications loaded',
        description:
          'Dice specifications die-service loaded from its file at start-up, per instance (3 with the bundled file: fair, risky, extreme). It refuses to start on an invalid file, so 0 means no instance is serving.',
        unit: 'none',
        thresholds: thresholds({ value: null, color: 'red' }, { value: 1, color: 'green' }),
        queries: [promql('die_specifications_loaded', '{{instance}}')],
      }),
      6,
      8,
    ),
  ],
};

const serviceToService: Row = {
  title: 'Service to service: the calls between them',
  collapsed: true,
  cells: [
    cell(
      timeseriesPanel({
        title: 'dice-roller → die-service: calls by outcome',
        description:
          "dice-roller's calls to die-service per second, by outcome as dice-roller saw it: success, error_<HTTP code> (error_404: an unknown die), timeout or connection_error.",
        unit: 'reqps',
        stack: true,
        queries: [
          promql(`sum by (status) (rate(die_service_requests_total{identifier=~"$die"}${RATE}))`, '{{status}}'),
        ],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'dice-roller → die-service: failed calls',
        description:
          'The calls that did not succeed, by die and outcome. Empty while every call succeeds. timeout and connection_error mean die-service was slow or down; error_404, that someone asked for an unknown die.',
        unit: 'reqps',
        stack: true,
        queries: [
          promql(
            `sum by (identifier, status) (rate(die_service_requests_total{identifier=~"$die", status!="success"}${RATE}))`,
            '{{identifier}} {{status}}',
          ),
        ],
      }),
      8,
      8,
    ),
    cell(
      latencyPanel({
        title: 'dice-roller → die-service: latency',
        description:
          'How long dice-roller waited for die-service, whatever the outcome (this histogram has no labels).',
        queries: p95AndP50('die_service_request_duration_seconds_bucket', ''),
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'frontend → dice-roller: calls by status code',
        description:
          "The frontend's calls to dice-roller per second, by the HTTP status dice-roller answered (200, 404 unknown die, 500 the die failed, ...), or timeout / connection_error when there was no answer.",
        unit: 'reqps',
        stack: true,
        queries: [promql(`sum by (status_code) (rate(backend_requests_total{${DIE}}${RATE}))`, '{{status_code}}')],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'frontend → dice-roller: failed calls',
        description:
          'The calls that did not answer 200, by die and status code. A risky die fails one roll in ten, an extreme one every other roll: that is the demo, not an outage.',
        unit: 'reqps',
        stack: true,
        queries: [
          promql(
            `sum by (die_type, status_code) (rate(backend_requests_total{${DIE}, status_code!="200"}${RATE}))`,
            '{{die_type}} {{status_code}}',
          ),
        ],
      }),
      8,
      8,
    ),
    cell(
      latencyPanel({
        title: 'frontend → dice-roller: p95 latency by die',
        description:
          "How long the frontend waited for dice-roller, by die: mostly the roll's random delay (0 to ROLL_DELAY_MAX_MS, 1 s by default).",
        queries: [
          promql(quantile(0.95, 'backend_request_duration_seconds_bucket', DIE, ['die_type']), '{{die_type}}', {
            exemplar: true,
          }),
        ],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Outgoing HTTP calls p95, as OpenTelemetry measures them',
        description:
          "The same hops seen by the OpenTelemetry SDK's own instrumentation (http.client.request.duration, from /metrics/otel, jobs <service>-otel), by calling service and the server it called. It should agree with the panels above.",
        unit: 's',
        min: 0,
        queries: [
          promql(
            quantile(0.95, 'http_client_request_duration_bucket', OTEL_JOB, ['job', 'server_address']),
            '{{job}} → {{server_address}}',
          ),
        ],
      }),
      12,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Calls between services, from the traces',
        description:
          "Requests per second between each client and server, and the failed ones, from the service-graph metrics the collector's servicegraph connector derives from the spans (Prometheus job span-metrics; the stack only). The same numbers label the edges of the service graph in the traces row.",
        unit: 'reqps',
        queries: [
          promql(
            `sum by (client, server) (rate(traces_service_graph_request_total${RATE}))`,
            '{{client}} → {{server}}',
          ),
          promql(
            `sum by (client, server) (rate(traces_service_graph_request_failed_total${RATE}))`,
            '{{client}} → {{server}} failed',
          ),
        ],
      }),
      12,
      8,
    ),
  ],
};

const diceRoller: Row = {
  title: 'dice-roller: the rolls',
  collapsed: true,
  cells: [
    cell(
      timeseriesPanel({
        title: 'Rolls by die and result',
        description: 'Rolls per second, by die type and result (success or error: the die failed).',
        unit: 'suffix: rolls/s',
        stack: true,
        queries: [
          promql(`sum by (die_type, result) (rate(dice_rolls_total{${DIE}}${RATE}))`, '{{die_type}} {{result}}'),
        ],
      }),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Failure ratio by die',
        description:
          "Share of each die's rolls that failed. It hovers around the die's error_rate in the specifications file: 0 for fair, 0.1 for risky, 0.5 for extreme.",
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [promql(ratio('dice_rolls_total', DIE, 'result="error"', 'die_type'), '{{die_type}}')],
      }),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Failed rolls by die',
        description: 'Rolls that failed per second, by die. Empty while no die fails.',
        unit: 'suffix: rolls/s',
        stack: true,
        queries: [promql(`sum by (die_type) (rate(dice_rolls_total{${DIE}, result="error"}${RATE}))`, '{{die_type}}')],
      }),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Mean roll value by die',
        description:
          'Average value rolled, by die: 3.5 for a fair six-sided die, 4 for extreme (0, 0, 6, 6, 6, 6). A lasting drift would mean the roll is not uniform over the faces.',
        unit: 'none',
        min: 0,
        queries: [
          promql(
            `sum by (die_type) (rate(dice_roll_value_sum{${DIE}}${RATE})) / sum by (die_type) (rate(dice_roll_value_count{${DIE}}${RATE}))`,
            '{{die_type}}',
          ),
        ],
      }),
      6,
      8,
    ),
    cell(
      distributionPanel({
        title: 'Roll values: $die',
        description:
          'How often each value came up on $die over the whole time range, one panel per selected die. Each bar is one bucket of the dice_roll_value histogram, labelled by its upper bound: for the whole faces of the bundled dice, the bars 0 to 6 are the faces themselves.',
        unit: 'none',
        queries: [
          promql(`sum by (le) (increase(dice_roll_value_bucket{${DIE}}[$__range]))`, '{{le}}', {
            instant: true,
            format: prometheus.PromQueryFormat.Heatmap,
          }),
        ],
      })
        .repeat('die')
        .repeatDirection('h')
        .maxPerRow(3),
      8,
      8,
    ),
  ],
};

const frontend: Row = {
  title: 'frontend: what users get',
  collapsed: true,
  cells: [
    cell(
      requestsByRoutePanel(
        'frontend',
        'Requests the frontend answered per second, by route template and status class: the UI (/), its assets, the list of dice and the rolls.',
      ),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Roll requests by outcome',
        description:
          'Roll requests per second by how they ended: success, error (the die failed or is unknown), timeout or connection_error (dice-roller too slow or down).',
        unit: 'reqps',
        stack: true,
        queries: [
          promql(`sum by (status) (rate(frontend_requests_total{${DIE}, status!="received"}${RATE}))`, '{{status}}'),
        ],
      }),
      6,
      8,
    ),
    cell(
      statPanel({
        title: 'Roll success ratio',
        description:
          'Share of roll requests that returned a roll, over the last rate window, with its trend over the time range. Failures are part of the demo (risky and extreme dice), so 100% is not expected unless only fair dice are rolled.',
        unit: 'percentunit',
        sparkline: true,
        thresholds: thresholds(
          { value: null, color: 'red' },
          { value: 0.75, color: 'orange' },
          { value: 0.95, color: 'green' },
        ),
        queries: [
          promql(
            `(sum(rate(frontend_requests_total{${DIE}, status="success"}${RATE})) or vector(0)) / sum(rate(frontend_requests_total{${DIE}, status!="received"}${RATE}))`,
            'success',
          ),
        ],
      }),
      6,
      8,
    ),
    cell(
      latencyPanel({
        title: 'Roll latency (GET /roll)',
        description: 'What a user waits for a roll, end to end through the three services.',
        queries: percentiles('http_request_duration_seconds_bucket', 'job="frontend", handler="/roll"'),
      }),
      6,
      8,
    ),
  ],
};

const concurrentRolls: Row = {
  title: 'Concurrent rolls: batches of dice rolled side by side (GET /roll-async)',
  collapsed: true,
  cells: [
    cell(
      timeseriesPanel({
        title: 'Batches against single rolls',
        description:
          'Batches dice-roller started per second (GET /roll-async), the rolls inside them, and single rolls (GET /roll). A batch of n is one request, one specification fetch and n rolls running at the same time.',
        unit: 'reqps',
        queries: [
          promql(`sum(rate(async_roll_batch_size_count${RATE}))`, 'batches'),
          promql(`sum(rate(async_rolls_total{${DIE}}${RATE}))`, 'rolls in batches'),
          promql(`sum(rate(dice_rolls_total{${DIE}}${RATE}))`, 'single rolls'),
        ],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Batch size percentiles',
        description:
          'How many dice a batch rolls (the times parameter, 1 to 20), estimated from the async_roll_batch_size buckets (1, 2, 3, 5, 10, 15, 20): a quantile between two bounds is interpolated.',
        unit: 'none',
        min: 0,
        queries: [
          promql(quantile(0.5, 'async_roll_batch_size_bucket', ''), 'p50'),
          promql(quantile(0.9, 'async_roll_batch_size_bucket', ''), 'p90'),
          promql(quantile(0.99, 'async_roll_batch_size_bucket', ''), 'p99'),
        ],
      }),
      8,
      8,
    ),
    cell(
      latencyPanel({
        title: 'Batch latency against single-roll latency',
        description:
          "How long a whole batch took, from its first roll's start to its slowest roll's end (async_roll_duration_seconds), next to how long dice-roller took for one roll (GET /roll). The rolls of a batch run at the same time, so a batch takes about as long as its slowest roll: the two lines stay close, whatever the batch size.",
        queries: [
          ...p95AndP50('async_roll_duration_seconds_bucket', '', { name: 'batch' }),
          // No exemplars here: the batch's diamonds are the ones this panel is about.
          ...p95AndP50('http_request_duration_seconds_bucket', 'job="dice-roller", handler="/roll"', {
            name: 'single roll',
            exemplars: false,
          }),
        ],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Batches in progress',
        description:
          "Batches dice-roller is rolling right now (the async_rolls_in_progress gauge, sampled at each scrape), per instance. About the batch rate times the batch latency (Little's law).",
        unit: 'short',
        min: 0,
        queries: [promql('sum by (instance) (async_rolls_in_progress)', '{{instance}}')],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Failure share of rolls in batches, by die',
        description:
          "Share of the individual rolls inside batches that failed, by die: each roll has its die's own chance of failing, so this hovers around the die's error_rate, as single rolls do. One failed roll fails its whole batch (500, failed_rolls names it).",
        unit: 'percentunit',
        min: 0,
        max: 1,
        queries: [promql(ratio('async_rolls_total', DIE, 'result="error"', 'die_type'), '{{die_type}}')],
      }),
      8,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Batch requests to the frontend, by size',
        description:
          'Batch requests the frontend received per second (GET /roll-async), by batch size. Only valid sizes (1 to 20) are counted, so no request can add a series; the rejected ones are the 4xx of GET /roll-async in the frontend row.',
        unit: 'reqps',
        stack: true,
        queries: [promql(`sum by (batch_size) (rate(async_roll_requests_total${RATE}))`, '{{batch_size}}')],
      }),
      8,
      8,
    ),
  ],
};

const runtime: Row = {
  title: 'Runtime: Node.js in each service',
  collapsed: true,
  cells: [
    cell(
      timeseriesPanel({
        title: 'Event-loop lag p99',
        description:
          "99th percentile of the event loop's delay, per service: how late callbacks run. The roll delay is a timer, not a busy wait, so this stays in milliseconds; lasting lag above 100 ms means the process is CPU-bound.",
        unit: 's',
        min: 0,
        thresholds: thresholds({ value: null, color: 'green' }, { value: 0.1, color: 'red' }),
        queries: [promql(`max by (job) (nodejs_eventloop_lag_p99_seconds{${SERVICE}})`, '{{job}}')],
      }),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Memory: heap used and resident',
        description:
          'V8 heap in use (JavaScript objects) and resident set size (all the memory the process holds), per service. A heap that only grows under steady traffic is a leak.',
        unit: 'bytes',
        min: 0,
        queries: [
          promql(`sum by (job) (nodejs_heap_size_used_bytes{${SERVICE}})`, '{{job}} heap used'),
          promql(`sum by (job) (process_resident_memory_bytes{${SERVICE}})`, '{{job}} resident'),
        ],
      }),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'CPU',
        description: 'CPU time used per second of wall time, per service (user and system): 100% is one core busy.',
        unit: 'percentunit',
        min: 0,
        queries: [promql(`sum by (job) (rate(process_cpu_seconds_total{${SERVICE}}${RATE}))`, '{{job}}')],
      }),
      6,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Time in garbage collection',
        description: 'Share of wall time spent in garbage collection pauses, per service.',
        unit: 'percentunit',
        min: 0,
        queries: [promql(`sum by (job) (rate(nodejs_gc_duration_seconds_sum{${SERVICE}}${RATE}))`, '{{job}}')],
      }),
      6,
      8,
    ),
  ],
};

const logs: Row = {
  title: 'Logs (Loki)',
  collapsed: true,
  cells: [
    cell(
      timeseriesPanel({
        title: 'Log lines by service and level',
        description:
          'Log lines per interval, by service and level: the two labels Alloy gives every stream. trace_id and span_id are structured metadata, not labels: filter on them with | trace_id="...".',
        unit: 'short',
        bars: true,
        stack: true,
        queries: [
          logql(
            'sum by (service, level) (count_over_time({service=~"$service", level=~"$level"} [$__auto]))',
            '{{service}} {{level}}',
          ),
        ],
      }),
      12,
      9,
    ),
    cell(
      logsPanel({
        title: 'Errors and warnings, all services',
        description:
          'Every ERROR and WARNING line of every service, newest first: failed rolls, unknown dice, unreachable upstreams. Open a line and follow its trace_id to the trace in Tempo.',
        query: logql('{service=~".+", level=~"ERROR|WARNING"}'),
      }),
      12,
      9,
    ),
    cell(
      logsPanel({
        title: 'Logs: $service',
        description:
          "$service's log lines as it wrote them (one JSON object each: message, die_type, roll_value, ...), at the selected levels, newest first. Open a line for its fields and the link to its trace.",
        query: logql('{service=~"$service", level=~"$level"}'),
      })
        .repeat('service')
        .repeatDirection('v'),
      24,
      10,
    ),
  ],
};

const traces: Row = {
  title: 'Traces (Tempo)',
  collapsed: true,
  cells: [
    cell(
      serviceGraphPanel(
        'Service graph',
        "The services and the calls between them, drawn from the service-graph metrics the collector's servicegraph connector derives from the spans (Prometheus job span-metrics): request rate and error share on each node and edge. Click a node for its traces and metrics.",
      ),
      12,
      10,
    ),
    cell(
      timeseriesPanel({
        title: 'Failed spans per second by service (TraceQL metrics)',
        description:
          'Spans with status error per second, by service, computed by Tempo from the stored traces ({ status = error } | rate()). A failed roll marks the spans of dice-roller and the frontend.',
        unit: 'suffix: spans/s',
        stack: true,
        queries: [traceqlMetrics(`{ status = error && ${TRACE_SERVICE} } | rate() by (resource.service.name)`)],
      }),
      12,
      10,
    ),
    cell(
      tracesTablePanel({
        title: 'Recent requests',
        description:
          'The latest server spans of the selected services, newest first: one line per trace. Open a trace id to see the whole roll: a server span in each service and a client span for each call.',
        query: traceql(`{ kind = server && ${TRACE_SERVICE} }`),
      }),
      8,
      10,
    ),
    cell(
      tracesTablePanel({
        title: 'Slowest requests (over 750 ms)',
        description:
          'Requests the selected services took more than 750 ms to answer, slowest first. Usually a roll whose random delay came out long; compare the dice-roller and die-service spans inside to see where the time went.',
        query: traceql(`{ kind = server && ${TRACE_SERVICE} && duration > 750ms }`),
        sortByDesc: 'Duration',
      }),
      8,
      10,
    ),
    cell(
      tracesTablePanel({
        title: 'Failed requests',
        description:
          'Traces with a span in error in the selected services: failed rolls (risky, extreme), unreachable or slow upstreams. The span in error carries die.error or the HTTP status.',
        query: traceql(`{ status = error && ${TRACE_SERVICE} }`),
      }),
      8,
      10,
    ),
    cell(
      timeseriesPanel({
        title: 'Server spans per second by service and span (span metrics)',
        description:
          "Server spans per second of each service and span name, and the failed ones (span status error), from the span metrics the collector's span_metrics connector derives from the traces (Prometheus job span-metrics). Any backend that receives the collector's traces gets the same numbers.",
        unit: 'reqps',
        queries: [
          promql(
            `sum by (service_name, span_name) (rate(traces_span_metrics_calls_total{${SERVER_SPANS}}${RATE}))`,
            '{{service_name}} {{span_name}}',
          ),
          promql(
            `sum by (service_name, span_name) (rate(traces_span_metrics_calls_total{${SERVER_SPANS}, status_code="STATUS_CODE_ERROR"}${RATE}))`,
            '{{service_name}} {{span_name}} failed',
          ),
        ],
      }),
      12,
      8,
    ),
    cell(
      timeseriesPanel({
        title: 'Server span p95 by service (span metrics)',
        description:
          "95th percentile duration of the server spans of each service, from the collector's span metrics: the traces' view of the latency panels above. Exemplars link to traces.",
        unit: 's',
        min: 0,
        queries: [
          promql(
            quantile(0.95, 'traces_span_metrics_duration_seconds_bucket', SERVER_SPANS, ['service_name']),
            '{{service_name}}',
            {
              exemplar: true,
            },
          ),
        ],
      }),
      12,
      8,
    ),
  ],
};

// ---- the dashboard ----

/** A multi-select variable over a Prometheus label's values, with "All" selected. */
function labelValuesVariable(name: string, label: string, description: string, query: string, allValue?: string) {
  const variable = new dashboard.QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(PROMETHEUS)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true);
  if (allValue !== undefined) variable.allValue(allValue);
  return variable.current({ text: 'All', value: '$__all', selected: true });
}

const variables = [
  labelValuesVariable(
    'service',
    'Service',
    'The services to show; the job label of their metrics, the service label of their logs, service.name in traces.',
    'label_values(http_requests_total, job)',
  ),
  labelValuesVariable(
    'die',
    'Die',
    'The dice to show: those dice-roller has rolled.',
    'label_values(dice_rolls_total, die_type)',
    '.*',
  ),
  new dashboard.CustomVariableBuilder('level')
    .label('Log level')
    .description('The log levels to show in the logs row (the level label Alloy sets from each JSON line).')
    .values('DEBUG,INFO,WARNING,ERROR')
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .current({ text: 'All', value: '$__all', selected: true }),
];

/**
 * The fault lab's windows (README, "Fault lab"): a red band over every time panel
 * while a fault is switched on, read from the `fault_active` gauge of the services
 * that implement them, so it works with provisioning alone.
 */
export const FAULT_WINDOWS_EXPR = `max by (fault) (fault_active{${SERVICE}}) == 1`;

const faultWindows = new dashboard.AnnotationQueryBuilder()
  .name('Faults switched on')
  .datasource(PROMETHEUS)
  .enable(true)
  .iconColor('red')
  .expr(FAULT_WINDOWS_EXPR)
  .step('15s')
  .titleFormat('Fault: {{fault}}')
  .tagKeys('fault')
  .textFormat('npm run fault -- off {{fault}}');

export function diceRollerDashboard(): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder('Dice Roller — Three Services')
    .uid('dice-roller-services')
    .description(
      'The three Dice Roller services (frontend → dice-roller → die-service): rate, errors and latency, business metrics, runtime, logs and traces, linked by trace id.',
    )
    .tags(['dice-roller', 'opentelemetry'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-30m', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    .variables(variables)
    .annotation(faultWindows);
  const built = layOut(builder, [
    overview,
    dieService,
    serviceToService,
    diceRoller,
    frontend,
    concurrentRolls,
    runtime,
    logs,
    traces,
  ]);
  return { ...built, schemaVersion: SCHEMA_VERSION };
}
