/**
 * Small helpers over @grafana/grafana-foundation-sdk, so that the dashboard files
 * read as a list of panels and their queries rather than as builder plumbing:
 * datasource references, query factories, panel presets with this project's
 * defaults (legends on, units, descriptions), and a row layout that gives every
 * panel its id and grid position.
 */
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as logs from '@grafana/grafana-foundation-sdk/logs';
import * as loki from '@grafana/grafana-foundation-sdk/loki';
import * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as tempo from '@grafana/grafana-foundation-sdk/tempo';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** The datasources stack/grafana/datasources.yaml provisions, by their fixed uids. */
export const PROMETHEUS: common.DataSourceRef = { type: 'prometheus', uid: 'prometheus' };
export const LOKI: common.DataSourceRef = { type: 'loki', uid: 'loki' };
export const TEMPO: common.DataSourceRef = { type: 'tempo', uid: 'tempo' };

/**
 * The dashboard JSON schema version written into the files. Grafana 13 loads
 * version 42 (the last of the classic dashboard model's frontend migrations) and
 * migrates it forward on load.
 */
export const SCHEMA_VERSION = 42;

type Query = cog.Builder<cog.Dataquery>;

// ---- queries ----

export interface PromOptions {
  /** Ask Prometheus for exemplars (trace ids on latency buckets), drawn as diamonds linking to Tempo. */
  exemplar?: boolean;
  /** One value at the end of the time range instead of a series over it. */
  instant?: boolean;
  /** `heatmap` turns cumulative `le` buckets into per-bucket counts. */
  format?: prometheus.PromQueryFormat;
}

/** A PromQL query on the provisioned Prometheus. */
export function promql(expr: string, legend: string, options: PromOptions = {}): prometheus.DataqueryBuilder {
  const query = new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS)
    .editorMode(prometheus.QueryEditorMode.Code)
    .expr(expr)
    .legendFormat(legend);
  if (options.instant === true) query.instant();
  else query.range();
  if (options.exemplar === true) query.exemplar(true);
  if (options.format !== undefined) query.format(options.format);
  return query;
}

/** A LogQL query (log lines or a metric over them) on the provisioned Loki. */
export function logql(expr: string, legend?: string): loki.DataqueryBuilder {
  const query = new loki.DataqueryBuilder()
    .datasource(LOKI)
    .editorMode(loki.QueryEditorMode.Code)
    .queryType('range')
    .expr(expr);
  if (legend !== undefined) query.legendFormat(legend);
  return query;
}

/** A TraceQL search (a table of traces) or metrics query (`| rate()`, ...) on the provisioned Tempo. */
export function traceql(query: string, limit = 20): tempo.DataqueryBuilder {
  return new tempo.DataqueryBuilder()
    .datasource(TEMPO)
    .queryType(tempo.TempoQueryType.Traceql)
    .query(query)
    .limit(limit)
    .tableType(tempo.SearchTableType.Traces);
}

/** A TraceQL metrics query, drawn as time series. */
export function traceqlMetrics(query: string): tempo.DataqueryBuilder {
  return new tempo.DataqueryBuilder()
    .datasource(TEMPO)
    .queryType(tempo.TempoQueryType.Traceql)
    .query(query)
    .metricsQueryType(tempo.MetricsQueryType.Range);
}

/** Tempo's service map, drawn from the service-graph metrics Tempo writes to Prometheus. */
export function serviceMap(): tempo.DataqueryBuilder {
  return new tempo.DataqueryBuilder().datasource(TEMPO).queryType(tempo.TempoQueryType.ServiceMap);
}

/**
 * The targets of a panel, with refIds A, B, C... in order, and the panel's own
 * datasource set to theirs (Grafana shows it in the editor and needs it to know a
 * panel is not "Mixed").
 */
function withTargets<T extends PanelWithTargets<T>>(panel: T, queries: Query[]): T {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const datasources = new Set<string>();
  for (const [i, query] of queries.entries()) {
    (query as unknown as { refId(refId: string): unknown }).refId(letters[i] ?? `Q${i}`);
    const uid = (query.build() as { datasource?: common.DataSourceRef }).datasource?.uid;
    if (uid !== undefined) datasources.add(uid);
  }
  const [uid] = datasources;
  const shared = [PROMETHEUS, LOKI, TEMPO].find((ds) => ds.uid === uid);
  if (datasources.size !== 1 || shared === undefined) throw new Error('a panel queries exactly one datasource');
  return panel.datasource(shared).targets(queries);
}

interface PanelWithTargets<T> {
  targets(targets: Query[]): T;
  datasource(datasource: common.DataSourceRef): T;
}

// ---- thresholds ----

export interface Step {
  value: number | null;
  color: string;
}

export function thresholds(...steps: Step[]): dashboard.ThresholdsConfigBuilder {
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** A neutral base: no colour change with the value. */
const NO_THRESHOLDS = thresholds({ value: null, color: 'green' });

// ---- panels ----

export interface PanelOptions {
  title: string;
  /** Shown on the (i) of the panel: what it answers and how to read it. */
  description: string;
  unit: string;
  queries: Query[];
}

export interface TimeseriesOptions extends PanelOptions {
  /** Stack the series (parts of a whole: requests by status, rolls by result). */
  stack?: boolean;
  /** Bars instead of lines (counts per interval). */
  bars?: boolean;
  min?: number;
  max?: number;
  /** Coloured steps; drawn as dashed lines on the graph. */
  thresholds?: dashboard.ThresholdsConfigBuilder;
  /** Legend as a table on the right with these calculations ('mean', 'max', 'lastNotNull'). */
  legendCalcs?: string[];
}

export function timeseriesPanel(options: TimeseriesOptions): timeseries.PanelBuilder {
  const legend = new common.VizLegendOptionsBuilder().showLegend(true);
  if (options.legendCalcs === undefined) {
    legend.displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).calcs([]);
  } else {
    legend
      .displayMode(common.LegendDisplayMode.Table)
      .placement(common.LegendPlacement.Right)
      .calcs(options.legendCalcs);
  }
  const panel = new timeseries.PanelBuilder()
    .title(options.title)
    .description(options.description)
    .unit(options.unit)
    .legend(legend)
    .tooltip(
      new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending),
    )
    .lineWidth(1)
    .fillOpacity(options.stack === true || options.bars === true ? 60 : 10)
    .gradientMode(common.GraphGradientMode.Opacity)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .thresholds(options.thresholds ?? NO_THRESHOLDS)
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        options.thresholds === undefined ? common.GraphThresholdsStyleMode.Off : common.GraphThresholdsStyleMode.Dashed,
      ),
    );
  if (options.bars === true) panel.drawStyle(common.GraphDrawStyle.Bars).barAlignment(common.BarAlignment.Center);
  else panel.drawStyle(common.GraphDrawStyle.Line).lineInterpolation(common.LineInterpolation.Smooth);
  if (options.stack === true) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (options.min !== undefined) panel.min(options.min);
  if (options.max !== undefined) panel.max(options.max);
  return withTargets(panel, options.queries);
}

export interface StatOptions extends PanelOptions {
  thresholds: dashboard.ThresholdsConfigBuilder;
  /** A sparkline of the value over the time range behind the number. */
  sparkline?: boolean;
}

export function statPanel(options: StatOptions): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(options.title)
    .description(options.description)
    .unit(options.unit)
    .thresholds(options.thresholds)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(options.sparkline === true ? common.BigValueGraphMode.Area : common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.Auto)
    .justifyMode(common.BigValueJustifyMode.Auto)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  return withTargets(panel, options.queries);
}

/**
 * A histogram's buckets as bars: one instant query in `heatmap` format, so that
 * each bar is the count of one bucket (not the cumulative count up to it).
 */
export function distributionPanel(options: PanelOptions): bargauge.PanelBuilder {
  const panel = new bargauge.PanelBuilder()
    .title(options.title)
    .description(options.description)
    .unit(options.unit)
    .min(0)
    .thresholds(NO_THRESHOLDS)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.ContinuousBlues))
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .valueMode(common.BarGaugeValueMode.Text)
    .namePlacement(common.BarGaugeNamePlacement.Auto)
    .orientation(common.VizOrientation.Vertical)
    .showUnfilled(true)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false));
  return withTargets(panel, options.queries);
}

export interface LogsOptions {
  title: string;
  description: string;
  query: loki.DataqueryBuilder;
}

export function logsPanel(options: LogsOptions): logs.PanelBuilder {
  const panel = new logs.PanelBuilder()
    .title(options.title)
    .description(options.description)
    .showTime(true)
    .showLabels(false)
    .showCommonLabels(false)
    .wrapLogMessage(true)
    .prettifyLogMessage(false)
    .enableLogDetails(true)
    .dedupStrategy(common.LogsDedupStrategy.None)
    .sortOrder(common.LogsSortOrder.Descending);
  return withTargets(panel, [options.query]);
}

export interface TracesTableOptions {
  title: string;
  description: string;
  query: tempo.DataqueryBuilder;
  /** Sort the table by this column, largest first. */
  sortByDesc?: string;
}

/** The traces a TraceQL search finds, one row each; a trace id opens the trace. */
export function tracesTablePanel(options: TracesTableOptions): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(options.title)
    .description(options.description)
    .cellHeight(common.TableCellHeight.Sm);
  if (options.sortByDesc !== undefined) {
    panel.sortBy([new common.TableSortByFieldStateBuilder().displayName(options.sortByDesc).desc(true)]);
  }
  return withTargets(panel, [options.query]);
}

export function serviceGraphPanel(title: string, description: string): nodegraph.PanelBuilder {
  return withTargets(new nodegraph.PanelBuilder().title(title).description(description), [serviceMap()]);
}

// ---- layout ----

/** A panel and its size on Grafana's 24-column grid. */
export interface Cell {
  panel: cog.Builder<dashboard.Panel>;
  /** Columns, out of 24: panels fill a line left to right, the next line starts after 24. */
  w: number;
  /** Height in grid units (30 px each). */
  h: number;
}

export interface Row {
  title: string;
  collapsed: boolean;
  cells: Cell[];
}

export function cell(panel: cog.Builder<dashboard.Panel>, w: number, h: number): Cell {
  return { panel, w, h };
}

/**
 * The rows, in order, onto the dashboard: the SDK places each panel after the
 * previous one (left to right, wrapping at 24 columns); then every panel and row
 * gets a unique id, in reading order.
 */
export function layOut(builder: dashboard.DashboardBuilder, rows: Row[]): dashboard.Dashboard {
  for (const row of rows) {
    const rowBuilder = new dashboard.RowBuilder(row.title).collapsed(row.collapsed);
    const placed = row.cells.map(({ panel, w, h }) => new Positioned(panel, { x: 0, y: 0, w, h }));
    if (row.collapsed) {
      for (const panel of placed) rowBuilder.withPanel(panel);
      builder.withRow(rowBuilder);
    } else {
      builder.withRow(rowBuilder);
      for (const panel of placed) builder.withPanel(panel);
    }
  }
  const built = builder.build();
  let id = 0;
  for (const panel of built.panels ?? []) {
    panel.id = ++id;
    for (const inner of 'panels' in panel ? panel.panels : []) inner.id = ++id;
  }
  return built;
}

/** A panel builder with its size set, left for the dashboard builder to place. */
class Positioned implements cog.Builder<dashboard.Panel> {
  private readonly inner: cog.Builder<dashboard.Panel>;
  private readonly gridPos: dashboard.GridPos;

  constructor(inner: cog.Builder<dashboard.Panel>, gridPos: dashboard.GridPos) {
    this.inner = inner;
    this.gridPos = gridPos;
  }

  build(): dashboard.Panel {
    return { ...this.inner.build(), gridPos: { ...this.gridPos } };
  }
}
