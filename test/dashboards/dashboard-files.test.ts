import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { DASHBOARDS } from '../../grafana-dashboards/src/dashboards.mts';
import { render } from '../../grafana-dashboards/src/generate.mts';
import {
  allSelection,
  DASHBOARDS_DIR,
  type Dashboard,
  dashboardFiles,
  interpolate,
  loadDashboards,
  logqlLabelFilters,
  logqlStreamSelectors,
  type Panel,
  panelsOf,
  promqlSelectors,
  queriesOf,
  rowsOf,
  syntaxErrors,
  TEST_BUILTINS,
  variablesIn,
  variablesOf,
} from '../support/dashboards';
import { REPO_ROOT } from '../support/service-process';
import {
  APP_SERVICES,
  alloyBlock,
  alloyObjectKeys,
  loadProject,
  readYaml,
  STACK_DIR,
  stackAlloy,
} from '../support/stack';
import { stackPrometheusConfig } from '../support/stack-prometheus';

/**
 * The dashboards as files, checked without running anything: they are what
 * their code generates, Grafana 13 can load them, and every query is well formed
 * and names only datasources, labels and variables that exist. The queries meet
 * real data in prometheus-queries.test.ts.
 */

const SCHEMA_FILE = path.join(REPO_ROOT, 'test', 'schemas', 'grafana-dashboard.jsonschema.json');
const dashboards = loadDashboards();
const queries = dashboards.flatMap(queriesOf);

/** Panel plugins shipped with Grafana 13 (the Angular ones, graph, singlestat, table-old..., are gone since 12). */
const GRAFANA_CORE_PANELS = new Set([
  'alertlist',
  'annolist',
  'barchart',
  'bargauge',
  'candlestick',
  'canvas',
  'dashlist',
  'datagrid',
  'flamegraph',
  'gauge',
  'geomap',
  'heatmap',
  'histogram',
  'logs',
  'news',
  'nodeGraph',
  'piechart',
  'row',
  'stat',
  'state-timeline',
  'status-history',
  'table',
  'text',
  'timeseries',
  'traces',
  'trend',
  'xychart',
]);

/**
 * Histograms whose buckets carry no exemplars: the OpenTelemetry SDK's Prometheus
 * exporter (/metrics/otel) does not write them. Every other latency histogram does.
 */
const NO_EXEMPLARS = new Set(['http_client_request_duration_bucket', 'http_server_request_duration_bucket']);

/** The rows the dashboard answers with, in the order. */
const MAIN_DASHBOARD = 'dice-roller.json';
const ROW_ORDER = [
  /^Overview/,
  /^die-service/,
  /^Service to service/,
  /^dice-roller/,
  /^frontend/,
  /^Concurrent rolls/,
  /^Runtime/,
  /^Logs/,
  /^Traces/,
];

interface ProvisionedDatasource {
  uid: string;
  type: string;
}
const provisioned = readYaml<{ datasources: ProvisionedDatasource[] }>(
  path.join(STACK_DIR, 'grafana', 'datasources.yaml'),
).datasources;

/** The stream labels Alloy sets: relabelling targets and the `stage.labels` of its processing. */
function alloyLabels(): { labels: string[]; metadata: string[] } {
  const components = stackAlloy();
  const relabelled = components
    .filter((c) => c.kind === 'discovery.relabel')
    .flatMap((c) => [...c.body.matchAll(/target_label\s*=\s*"([^"]+)"/g)].map((m) => m[1] as string));
  const processing = components.filter((c) => c.kind === 'loki.process');
  const staged = processing.flatMap((c) => alloyObjectKeys(alloyBlock(c.body, 'stage.labels') ?? '', 'values'));
  const metadata = processing.flatMap((c) =>
    alloyObjectKeys(alloyBlock(c.body, 'stage.structured_metadata') ?? '', 'values'),
  );
  return { labels: [...new Set([...relabelled, ...staged])].filter((l) => !l.startsWith('__')), metadata };
}

/**
 * Values for every variable as Grafana would substitute them with "All" selected;
 * the query variables' values are the services and dice of the contract.
 */
function offlineValues(dashboard: Dashboard): Record<string, string> {
  const known: Record<string, string[]> = { service: [...APP_SERVICES], die: ['fair', 'risky', 'extreme'] };
  const values: Record<string, string> = { ...TEST_BUILTINS };
  for (const variable of variablesOf(dashboard)) {
    const options =
      variable.type === 'custom' ? String(variable.query ?? '').split(',') : (known[variable.name] ?? ['x']);
    values[variable.name] = allSelection(variable, options);
  }
  return values;
}

/** Every object under `value` with a `datasource` (or `datasourceUid`), and where it is. */
function datasourceRefs(value: unknown, where = ''): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => datasourceRefs(item, `${where}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === 'datasource' || key === 'datasourceUid'
      ? [[`${where}.${key}`, inner] as [string, unknown], ...datasourceRefs(inner, `${where}.${key}`)]
      : datasourceRefs(inner, `${where}.${key}`),
  );
}

function overlaps(a: Panel['gridPos'], b: Panel['gridPos']): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The panels of each row as Grafana lays them out: a row's own, nested or following it. */
function panelsByRow(dashboard: Dashboard): { row: Panel; panels: Panel[] }[] {
  const groups: { row: Panel; panels: Panel[] }[] = [];
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') groups.push({ row: panel, panels: [...(panel.panels ?? [])] });
    else groups.at(-1)?.panels.push(panel);
  }
  return groups;
}

describe('the dashboard files', () => {
  it('are exactly what their code generates', () => {
    const generated = Object.keys(DASHBOARDS).sort();
    expect(dashboardFiles().map((file) => path.relative(DASHBOARDS_DIR, file))).toEqual(generated);
    for (const [file, build] of Object.entries(DASHBOARDS)) {
      const committed = readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8');
      // Structure first, for a readable difference; then the text, formatting included.
      expect(JSON.parse(committed), `${file}: run node grafana-dashboards/src/generate.mts`).toEqual(
        JSON.parse(JSON.stringify(build())),
      );
      expect(committed, `${file}: run node grafana-dashboards/src/generate.mts`).toBe(render(file, build()));
    }
  });

  it('are the only JSON files in the folder Grafana loads (any other would be read as a dashboard)', () => {
    for (const { file, dashboard } of dashboards) {
      expect(typeof dashboard.title, file).toBe('string');
      expect(dashboard.title.length, file).toBeGreaterThan(0);
    }
  });

  it('have the main dashboard, "Dice Roller — Three Services"', () => {
    const main = dashboards.find((d) => d.file === MAIN_DASHBOARD)?.dashboard;
    expect(main?.title).toBe('Dice Roller — Three Services');
  });

  it('type-check (the dashboard code is not part of the workspaces build)', () => {
    const tsc = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
    const sources = path.join(DASHBOARDS_DIR, 'src');
    const files = readdirSync(sources)
      .filter((name) => name.endsWith('.mts'))
      .map((name) => path.join(sources, name));
    const result = spawnSync(
      tsc,
      [
        '--ignoreConfig',
        '--noEmit',
        '--strict',
        '--noUncheckedIndexedAccess',
        '--exactOptionalPropertyTypes',
        '--noUnusedLocals',
        '--noUnusedParameters',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2024',
        '--allowImportingTsExtensions',
        '--skipLibCheck',
        '--types',
        'node',
        ...files,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.error).toBeUndefined();
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('the Grafana these checks are written for', () => {
  it('is the one the stack pins: Grafana 13 (revisit the schema version and panel list on a new major)', () => {
    const image = loadProject().services.get('grafana')?.service.image;
    expect(image).toMatch(/^grafana\/grafana:13\.\d+\.\d+$/);
  });
});

describe.each(dashboards)('$file, as Grafana 13 loads it', ({ file, dashboard }) => {
  it('validates against the dashboard JSON schema (test/schemas)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
    const valid = validate(dashboard);
    expect(validate.errors ?? [], file).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is a classic dashboard model at schema version 42, which Grafana 13 migrates forward on load', () => {
    // Not the v2 API envelope (apiVersion/kind/spec): file provisioning loads the classic model.
    expect(dashboard).not.toHaveProperty('apiVersion');
    expect(dashboard).not.toHaveProperty('spec');
    expect(dashboard.schemaVersion).toBe(42);
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{8,40}$/);
  });

  it('uses only panel plugins Grafana 13 ships, and no transformation it removed', () => {
    for (const panel of [...rowsOf(dashboard), ...panelsOf(dashboard)]) {
      expect(GRAFANA_CORE_PANELS.has(panel.type), `${panel.title}: ${panel.type}`).toBe(true);
      // formatTime was replaced by convertFieldType (schema version 43).
      for (const transformation of panel.transformations ?? []) expect(transformation.id).not.toBe('formatTime');
    }
  });

  it('names only provisioned datasources, by uid and type', () => {
    const refs = datasourceRefs(dashboard);
    expect(refs.length).toBeGreaterThan(0);
    for (const [where, ref] of refs) {
      // A datasource named by a string (its name) is the legacy form; the stack fixes uids.
      expect(typeof ref, where).toBe('object');
      const { uid, type } = ref as { uid?: string; type?: string };
      const match = provisioned.find((ds) => ds.uid === uid);
      expect(match, `${where}: ${uid}`).toBeDefined();
      expect(type, where).toBe(match?.type);
    }
  });

  it('gives every panel a unique id, a title, a description and a unit where it draws numbers', () => {
    const all = [...rowsOf(dashboard), ...panelsOf(dashboard)];
    expect(new Set(all.map((p) => p.id)).size).toBe(all.length);
    for (const panel of panelsOf(dashboard)) {
      expect(panel.title, `panel ${panel.id}`).toBeTruthy();
      expect(panel.description, panel.title).toBeTruthy();
      if (['timeseries', 'stat', 'bargauge', 'gauge'].includes(panel.type)) {
        expect(panel.fieldConfig?.defaults?.unit, panel.title).toBeTruthy();
      }
      expect(panel.targets?.length ?? 0, panel.title).toBeGreaterThan(0);
    }
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    for (const { row, panels } of panelsByRow(dashboard)) {
      expect(row.gridPos).toMatchObject({ x: 0, w: 24, h: 1 });
      for (const [i, panel] of panels.entries()) {
        expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
        expect(panel.gridPos.y, panel.title).toBeGreaterThan(row.gridPos.y);
        for (const other of panels.slice(i + 1)) {
          expect(overlaps(panel.gridPos, other.gridPos), `${panel.title} / ${other.title}`).toBe(false);
        }
        // Copies of a panel repeated sideways fill its line: nothing else may sit there.
        if (panel.repeat !== undefined && panel.repeatDirection !== 'v') {
          const band = { x: 0, w: 24, y: panel.gridPos.y, h: panel.gridPos.h };
          const neighbours = panels.filter((other) => other !== panel && overlaps(band, other.gridPos));
          expect(
            neighbours.map((p) => p.title),
            panel.title,
          ).toEqual([]);
        }
      }
    }
  });

  it('repeats panels over variables that exist and take several values', () => {
    const variables = new Map(variablesOf(dashboard).map((v) => [v.name, v]));
    for (const panel of panelsOf(dashboard).filter((p) => p.repeat !== undefined)) {
      const variable = variables.get(panel.repeat as string);
      expect(variable, panel.title).toBeDefined();
      expect(variable?.multi || variable?.includeAll, panel.title).toBe(true);
    }
  });

  it('refers only to variables it defines and to Grafana built-ins', () => {
    const defined = new Set([...variablesOf(dashboard).map((v) => v.name), ...Object.keys(TEST_BUILTINS)]);
    const texts = [
      ...queries.filter((q) => q.file === file).map((q) => q.text),
      ...panelsOf(dashboard).flatMap((p) => [p.title ?? '', p.description ?? '']),
    ];
    for (const text of texts) {
      for (const name of variablesIn(text)) expect(defined.has(name), `$${name} in ${text}`).toBe(true);
    }
  });

  it('shows exemplars, linked to Tempo, on every latency panel', () => {
    const latency = panelsOf(dashboard).filter(
      (p) =>
        p.fieldConfig?.defaults?.unit === 's' &&
        (p.targets ?? []).some(
          (t) =>
            /histogram_quantile\(/.test(String(t.expr)) &&
            promqlSelectors(String(t.expr)).some((s) => !NO_EXEMPLARS.has(s.metric ?? '')),
        ),
    );
    expect(latency.length).toBeGreaterThan(5);
    for (const panel of latency) {
      expect(
        panel.targets?.some((t) => t.exemplar === true),
        panel.title,
      ).toBe(true);
    }
  });
});

describe('the main dashboard', () => {
  const main = dashboards.find((d) => d.file === MAIN_DASHBOARD)?.dashboard as Dashboard;

  it("has the issue's rows, in its order, the overview open", () => {
    const rows = rowsOf(main);
    expect(rows.map((r) => r.title)).toHaveLength(ROW_ORDER.length);
    for (const [i, pattern] of ROW_ORDER.entries()) expect(rows[i]?.title).toMatch(pattern);
    expect(rows[0]?.collapsed).toBe(false);
    expect(main.panels[0]?.type).toBe('row');
  });

  it('lets users filter by service, die and log level', () => {
    const variables = variablesOf(main);
    expect(variables.map((v) => v.name)).toEqual(['service', 'die', 'level']);
    const [service, die, level] = variables;
    expect(service).toMatchObject({ type: 'query', query: 'label_values(http_requests_total, job)' });
    expect(service?.datasource?.uid).toBe('prometheus');
    expect(die).toMatchObject({ type: 'query', query: 'label_values(dice_rolls_total, die_type)', allValue: '.*' });
    // The levels the services log (DESIGN.md), which Alloy copies into the level label.
    expect(level).toMatchObject({ type: 'custom', query: 'DEBUG,INFO,WARNING,ERROR' });
  });

  it('has logs and traces panels of every kind the issue asks for', () => {
    const panels = panelsOf(main);
    const types = panels.map((p) => p.type);
    expect(types).toContain('logs');
    expect(types).toContain('nodeGraph');
    const traceTables = panels.filter((p) => p.type === 'table' && p.datasource?.uid === 'tempo');
    expect(traceTables.map((p) => p.title)).toEqual([
      expect.stringMatching(/^Recent/),
      expect.stringMatching(/^Slowest/),
      expect.stringMatching(/^Failed/),
    ]);
  });
});

describe('every query', () => {
  const values = new Map(dashboards.map((d) => [d.file, offlineValues(d.dashboard)]));
  const substituted = (q: (typeof queries)[number]) => interpolate(q.text, values.get(q.file) ?? {});
  const byLanguage = (language: string) => queries.filter((q) => q.language === language);

  it('is one Grafana knows how to run, on a provisioned datasource', () => {
    expect(queries.length).toBeGreaterThan(40);
    for (const language of ['promql', 'logql', 'traceql', 'serviceMap']) {
      expect(byLanguage(language).length, language).toBeGreaterThan(0);
    }
  });

  it.each(byLanguage('promql').map((q) => [q.name, q] as const))('PromQL %s parses', (_name, q) => {
    const expr = substituted(q);
    expect(syntaxErrors('promql', expr), expr).toEqual([]);
    expect(promqlSelectors(expr).length, expr).toBeGreaterThan(0);
  });

  it.each(byLanguage('logql').map((q) => [q.name, q] as const))('LogQL %s parses', (_name, q) => {
    const expr = substituted(q);
    expect(syntaxErrors('logql', expr), expr).toEqual([]);
  });

  it.each(byLanguage('traceql').map((q) => [q.name, q] as const))('TraceQL %s parses', (_name, q) => {
    const query = substituted(q);
    expect(syntaxErrors('traceql', query), query).toEqual([]);
  });

  it('in Loki selects streams by the labels Alloy sets, and nothing else', () => {
    const { labels, metadata } = alloyLabels();
    expect(labels.sort()).toEqual(['level', 'service']);
    expect(metadata.sort()).toEqual(['span_id', 'trace_id']);
    for (const q of byLanguage('logql')) {
      const expr = substituted(q);
      const selectors = logqlStreamSelectors(expr);
      expect(selectors.length, expr).toBeGreaterThan(0);
      for (const matcher of selectors.flat()) expect(labels, `${q.name}: ${expr}`).toContain(matcher.label);
      // After the selector, without a parser stage, only labels and structured metadata exist.
      const filters = logqlLabelFilters(expr);
      if (!filters.afterParser) {
        for (const label of filters.labels) expect([...labels, ...metadata], `${q.name}: ${expr}`).toContain(label);
      }
    }
  });

  it('in PromQL selects the services by job and the dice by their labels', () => {
    for (const q of byLanguage('promql')) {
      for (const selector of promqlSelectors(substituted(q))) {
        for (const matcher of selector.matchers.filter((m) => m.label === 'job')) {
          // A job regex that matches no stack job would hide a service.
          const jobs = stackPrometheusConfig().scrape_configs.map((j) => j.job_name);
          const regex = new RegExp(`^(?:${matcher.value})$`);
          expect(
            jobs.some((job) => (matcher.op === '=' ? job === matcher.value : regex.test(job))),
            q.name,
          ).toBe(true);
        }
      }
    }
  });
});
