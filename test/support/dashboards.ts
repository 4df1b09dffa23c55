import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as traceqlParser } from '@grafana/lezer-traceql';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { REPO_ROOT } from './service-process';

/**
 * Readers for the dashboards in grafana-dashboards/: every panel, every query
 * with its language, Grafana's variables and how Grafana substitutes them, and
 * what a query refers to (metric names, label matchers, stream labels, span
 * fields), so that the tests in test/dashboards/ check what the files say.
 */

export const DASHBOARDS_DIR = path.join(REPO_ROOT, 'grafana-dashboards');

// ---- the files ----

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface Target {
  refId?: string;
  datasource?: DatasourceRef;
  expr?: string;
  query?: string;
  queryType?: string;
  exemplar?: boolean;
  instant?: boolean;
  range?: boolean;
  format?: string;
  [key: string]: unknown;
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: DatasourceRef;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Target[];
  repeat?: string;
  collapsed?: boolean;
  panels?: Panel[];
  fieldConfig?: { defaults?: { unit?: string; [key: string]: unknown }; overrides?: unknown[] };
  options?: Record<string, unknown>;
  transformations?: { id: string }[];
  [key: string]: unknown;
}

export interface Variable {
  type: string;
  name: string;
  query?: string;
  datasource?: DatasourceRef;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list?: Variable[] };
  annotations: { list?: { datasource?: DatasourceRef; expr?: string; [key: string]: unknown }[] };
  [key: string]: unknown;
}

export interface DashboardFile {
  /** Relative to grafana-dashboards/. */
  file: string;
  dashboard: Dashboard;
}

/**
 * Every file Grafana's file provider loads from the folder: `*.json` at any depth,
 * hidden folders skipped (what Grafana's provisioning walk does).
 */
export function dashboardFiles(dir = DASHBOARDS_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith('.') ? [] : dashboardFiles(full);
      return entry.name.endsWith('.json') ? [full] : [];
    })
    .sort();
}

export function loadDashboards(): DashboardFile[] {
  return dashboardFiles().map((full) => ({
    file: path.relative(DASHBOARDS_DIR, full),
    dashboard: JSON.parse(readFileSync(full, 'utf8')) as Dashboard,
  }));
}

/** The rows of a dashboard, in order. */
export function rowsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.filter((panel) => panel.type === 'row');
}

/** Every panel that is not a row, inside collapsed rows too. */
export function panelsOf(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((panel) => (panel.type === 'row' ? (panel.panels ?? []) : [panel]));
}

export function variablesOf(dashboard: Dashboard): Variable[] {
  return dashboard.templating.list ?? [];
}

// ---- queries ----

export type Language = 'promql' | 'logql' | 'traceql' | 'serviceMap';

export interface DashboardQuery {
  file: string;
  panel: Panel;
  target: Target;
  language: Language;
  /** The query as written in the file, Grafana variables and all. */
  text: string;
  /** For test names and failure messages. */
  name: string;
}

/**
 * Every query of every panel, by language. A target this cannot classify is an
 * error: no query escapes the checks by being of an unexpected shape.
 */
export function queriesOf({ file, dashboard }: DashboardFile): DashboardQuery[] {
  return panelsOf(dashboard).flatMap((panel) =>
    (panel.targets ?? []).map((target) => {
      const uid = target.datasource?.uid ?? panel.datasource?.uid;
      const name = `${file} #${panel.id} "${panel.title}" ${target.refId ?? '?'}`;
      const query = (language: Language, text: string | undefined): DashboardQuery => {
        if (typeof text !== 'string' || (text.trim() === '' && language !== 'serviceMap')) {
          throw new Error(`${name}: a ${language} target without a query`);
        }
        return { file, panel, target, language, text, name };
      };
      if (uid === 'prometheus') return query('promql', target.expr);
      if (uid === 'loki') return query('logql', target.expr);
      if (uid === 'tempo' && target.queryType === 'traceql') return query('traceql', target.query);
      if (uid === 'tempo' && target.queryType === 'serviceMap') return query('serviceMap', '');
      throw new Error(`${name}: a target of datasource ${uid} and type ${target.queryType} that no check knows`);
    }),
  );
}

// ---- Grafana's variables ----

/**
 * The values the tests give Grafana's built-in interval variables. The test
 * Prometheus scrapes every second, so a 15 s rate window spans 15 scrapes, as
 * Grafana's `$__rate_interval` (at least four scrape intervals) would with the
 * stack's 15 s scrape interval stretched to a minute.
 */
export const TEST_BUILTINS: Record<string, string> = {
  __rate_interval: '15s',
  __interval: '5s',
  __range: '5m',
  __auto: '1m',
};

/**
 * What Grafana substitutes for a variable when "All" is selected: its allValue if it
 * has one, else its values as a regex alternation, `(a|b|c)`, for PromQL, LogQL and
 * the `:regex` format alike (regex metacharacters escaped).
 */
export function allSelection(variable: Variable, values: string[]): string {
  if (variable.allValue !== undefined && variable.allValue !== '') return variable.allValue;
  const escaped = values.map((value) => value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&'));
  return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
}

// Grafana's variable syntax: $name, [[name]] or [[name:format]], ${name} or ${name:format}.
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

/** Every variable a query refers to (built-ins included, without their `$`). */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(VARIABLE)].map((m) => (m[1] ?? m[2] ?? m[4]) as string);
}

/**
 * The query with every variable replaced by `values[name]`; a variable with no value
 * is an error, so that a misspelt variable fails here rather than in Grafana.
 */
export function interpolate(text: string, values: Record<string, string>): string {
  return text.replace(VARIABLE, (whole, plain?: string, bracketed?: string, _f1?: string, braced?: string) => {
    const name = (plain ?? bracketed ?? braced) as string;
    const value = values[name];
    if (value === undefined) throw new Error(`unknown variable ${whole} in ${text}`);
    return value;
  });
}

// ---- parsing ----

interface LezerNode {
  name: string;
  from: number;
  to: number;
  firstChild: LezerNode | null;
  nextSibling: LezerNode | null;
  parent: LezerNode | null;
  type: { isError: boolean; name: string };
  getChild(name: string): LezerNode | null;
  getChildren(name: string): LezerNode[];
}

interface LezerParser {
  parse(text: string): {
    topNode: LezerNode;
    iterate(spec: { enter(node: { type: { isError: boolean }; from: number; to: number }): void }): void;
  };
}

export const PARSERS: Record<'promql' | 'logql' | 'traceql', LezerParser> = {
  promql: promqlParser as unknown as LezerParser,
  logql: logqlParser as unknown as LezerParser,
  traceql: traceqlParser as unknown as LezerParser,
};

/** Where Grafana's own parser for the language finds a syntax error, if anywhere. */
export function syntaxErrors(language: keyof typeof PARSERS, text: string): string[] {
  const errors: string[] = [];
  PARSERS[language].parse(text).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`at ${node.from}: "${text.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
    },
  });
  return errors;
}

function nodes(language: keyof typeof PARSERS, text: string, name: string): LezerNode[] {
  return descendants(PARSERS[language].parse(text).topNode, name);
}

/** The nodes named `name` at or under `node`. */
function descendants(node: LezerNode, name: string): LezerNode[] {
  const found: LezerNode[] = node.name === name ? [node] : [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) found.push(...descendants(child, name));
  return found;
}

function children(node: LezerNode): LezerNode[] {
  const list: LezerNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) list.push(child);
  return list;
}

/** A label matcher of a selector, its value unquoted. */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  return JSON.parse(literal.startsWith("'") ? `"${literal.slice(1, -1).replaceAll('"', '\\"')}"` : literal) as string;
}

/** The series selectors of a PromQL expression: metric name and label matchers. */
export function promqlSelectors(expr: string): { metric: string | undefined; matchers: Matcher[] }[] {
  return nodes('promql', expr, 'VectorSelector').map((selector) => {
    const identifier = selector.getChild('Identifier');
    const matchers = descendants(selector, 'UnquotedLabelMatcher').map((m) => matcher(expr, m));
    return { metric: identifier === null ? undefined : expr.slice(identifier.from, identifier.to), matchers };
  });
}

/** `label op "value"`, from the node of a matcher whose children are those three. */
function matcher(text: string, node: LezerNode): Matcher {
  const [label, op, value] = children(node).map((c) => text.slice(c.from, c.to));
  return { label: label as string, op: op as Matcher['op'], value: unquote(value as string) };
}

/** The metric names a PromQL expression reads. */
export function promqlMetrics(expr: string): string[] {
  return [...new Set(promqlSelectors(expr).flatMap((s) => (s.metric === undefined ? [] : [s.metric])))];
}

const ERROR_VALUES = /^(5xx|4xx|error|error_\w+|timeout|connection_error|[45]\d\d)$/;
const SUCCESS_VALUES = /^(success|2xx|200|2\.\.)$/;
const OUTCOME_LABELS = new Set(['status', 'status_code', 'result']);

/**
 * A query "about errors": every series it reads is filtered to failures (status
 * 5xx, result error, anything but success...). Such a query rightly returns
 * nothing while nothing fails; any other query must return data.
 */
export function isAboutErrors(expr: string): boolean {
  const selectors = promqlSelectors(expr);
  return (
    selectors.length > 0 &&
    selectors.every((selector) =>
      selector.matchers.some(
        (m) =>
          OUTCOME_LABELS.has(m.label) &&
          (((m.op === '=' || m.op === '=~') && ERROR_VALUES.test(m.value)) ||
            ((m.op === '!=' || m.op === '!~') && SUCCESS_VALUES.test(m.value))),
      ),
    )
  );
}

/** The stream selectors of a LogQL query (a log query or a metric over one). */
export function logqlStreamSelectors(expr: string): Matcher[][] {
  return nodes('logql', expr, 'Selector').map((selector) =>
    descendants(selector, 'Matcher').map((m) => matcher(expr, m)),
  );
}

/** Labels a LogQL query filters on after the selector (`| trace_id="..."`), and whether a parser stage precedes. */
export function logqlLabelFilters(expr: string): { labels: string[]; afterParser: boolean } {
  const labels = nodes('logql', expr, 'LabelFilter').flatMap((filter) =>
    descendants(filter, 'Identifier').map((id) => expr.slice(id.from, id.to)),
  );
  return { labels, afterParser: nodes('logql', expr, 'LabelParser').length > 0 };
}

/** Whether a set of labels matches every matcher (Loki and Prometheus regexes are anchored). */
export function matchesAll(labels: Record<string, string>, matchers: Matcher[]): boolean {
  return matchers.every(({ label, op, value }) => {
    const actual = labels[label] ?? '';
    switch (op) {
      case '=':
        return actual === value;
      case '!=':
        return actual !== value;
      case '=~':
        return new RegExp(`^(?:${value})$`).test(actual);
      case '!~':
        return !new RegExp(`^(?:${value})$`).test(actual);
    }
    return false;
  });
}

// ---- TraceQL against spans ----

/** A span as TraceQL sees it. */
export interface TraceqlSpan {
  name: string;
  kind: string;
  status: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

/** The span attributes and intrinsics a TraceQL query refers to, as written (`resource.service.name`, `kind`). */
export function traceqlFields(query: string): string[] {
  return [
    ...new Set(
      [...nodes('traceql', query, 'AttributeField'), ...nodes('traceql', query, 'IntrinsicField')].map((n) =>
        query.slice(n.from, n.to),
      ),
    ),
  ];
}

/**
 * Whether a span satisfies the first spanset filter of a TraceQL query (`{ ... }`):
 * `&&`, `||`, and comparisons of intrinsics or attributes with literals. Conditions
 * on `duration` are taken as satisfied: durations depend on the random roll delay,
 * not on the names the query uses. Anything else the evaluator does not know throws.
 */
export function traceqlMatches(query: string, span: TraceqlSpan): boolean {
  const [filter] = nodes('traceql', query, 'SpansetFilter');
  const expression = filter?.getChild('FieldExpression');
  if (expression === undefined || expression === null) return true; // `{ }` matches every span
  const text = (node: LezerNode) => query.slice(node.from, node.to);

  const field = (node: LezerNode): unknown => {
    const intrinsic = node.getChild('IntrinsicField');
    if (intrinsic !== null) {
      const name = text(intrinsic);
      if (name === 'kind') return span.kind;
      if (name === 'status') return span.status;
      if (name === 'name') return span.name;
      if (name === 'duration') return DURATION;
      throw new Error(`TraceQL intrinsic ${name}: not evaluated by the test`);
    }
    const attribute = node.getChild('AttributeField');
    if (attribute === null) throw new Error(`TraceQL: not a field: ${text(node)}`);
    const written = text(attribute);
    const [scope, ...rest] = written.split('.');
    const key = rest.join('.');
    if (scope === 'resource') return span.resource[key];
    if (scope === 'span') return span.attributes[key];
    if (scope === '') return span.attributes[key] ?? span.resource[key];
    throw new Error(`TraceQL scope ${scope}: not evaluated by the test`);
  };

  const literal = (node: LezerNode): unknown => {
    const value = text(node).trim();
    if (value.startsWith('"')) return JSON.parse(value);
    if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    return value; // server, error, ok, a duration...
  };

  const evaluate = (node: LezerNode): boolean => {
    const parts = children(node);
    const connective = parts.find((p) => p.name === 'And' || p.name === 'Or');
    if (connective !== undefined) {
      const [left, , right] = parts;
      if (left === undefined || right === undefined) throw new Error(`TraceQL: ${text(node)}`);
      return connective.name === 'And' ? evaluate(left) && evaluate(right) : evaluate(left) || evaluate(right);
    }
    const op = parts.find((p) => p.name === 'FieldOp');
    if (op === undefined) throw new Error(`TraceQL expression not evaluated by the test: ${text(node)}`);
    const [left, , right] = parts;
    if (left === undefined || right === undefined) throw new Error(`TraceQL: ${text(node)}`);
    const actual = field(left);
    if (actual === DURATION) return true;
    const expected = literal(right);
    switch (text(op)) {
      case '=':
        return actual === expected || String(actual) === String(expected);
      case '!=':
        return String(actual) !== String(expected);
      case '=~':
        return actual !== undefined && new RegExp(`^(?:${expected})$`).test(String(actual));
      case '!~':
        return actual === undefined || !new RegExp(`^(?:${expected})$`).test(String(actual));
      case '>':
        return Number(actual) > Number(expected);
      case '<':
        return Number(actual) < Number(expected);
      case '>=':
        return Number(actual) >= Number(expected);
      case '<=':
        return Number(actual) <= Number(expected);
    }
    throw new Error(`TraceQL operator ${text(op)}: not evaluated by the test`);
  };

  return evaluate(expression);
}

const DURATION = Symbol('duration');
