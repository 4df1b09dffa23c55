import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import {
  APP_SERVICES,
  alloyBlock,
  alloyObjectKeys,
  composeService,
  environmentOf,
  loadProject,
  portsOf,
  readText,
  readYaml,
  STACK_DIR,
  stackAlloy,
  volumesOf,
} from '../support/stack';
import { stackPrometheusConfig } from '../support/stack-prometheus';

/**
 * Grafana's provisioning, checked offline: the datasources exist under the fixed
 * uids, every link between them names a provisioned datasource, the queries in
 * those links parse and use the labels the stack really sets, and the dashboards
 * folder is mounted where the provider looks.
 */

interface Datasource {
  name: string;
  type: string;
  uid: string;
  url: string;
  access?: string;
  isDefault?: boolean;
  jsonData?: Record<string, unknown>;
}

interface DashboardProvider {
  name: string;
  type: string;
  folder?: string;
  options: { path: string };
}

const DATASOURCES_FILE = path.join(STACK_DIR, 'grafana', 'datasources.yaml');
const DASHBOARDS_FILE = path.join(STACK_DIR, 'grafana', 'dashboards.yaml');
const datasourcesText = readText(DATASOURCES_FILE);
const { datasources } = readYaml<{ apiVersion: number; datasources: Datasource[] }>(DATASOURCES_FILE);
const { providers } = readYaml<{ apiVersion: number; providers: DashboardProvider[] }>(DASHBOARDS_FILE);
const byUid = new Map(datasources.map((ds) => [ds.uid, ds]));
const { services } = loadProject();
const grafana = composeService('grafana');

function jsonData(uid: string): Record<string, unknown> {
  return byUid.get(uid)?.jsonData ?? {};
}

/** Every `datasourceUid` anywhere under `value`, with where it was found. */
function linkedUids(value: unknown, where = ''): [string, string][] {
  if (Array.isArray(value)) return value.flatMap((item, i) => linkedUids(item, `${where}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) =>
    key === 'datasourceUid' ? [[where, String(inner)] as [string, string]] : linkedUids(inner, `${where}.${key}`),
  );
}

/** Grafana reads `$$` in a provisioning file as a literal `$`. */
function literal(text: string): string {
  return text.replaceAll('$$', '$');
}

function parseErrors(tree: { iterate(spec: { enter(node: { type: { isError: boolean } }): void }): void }): number {
  let errors = 0;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors++;
    },
  });
  return errors;
}

describe('the provisioned datasources', () => {
  it('are Prometheus, Loki and Tempo under the fixed uids', () => {
    expect(datasources.map((ds) => [ds.uid, ds.type])).toEqual([
      ['prometheus', 'prometheus'],
      ['loki', 'loki'],
      ['tempo', 'tempo'],
    ]);
    expect(datasources.filter((ds) => ds.isDefault).map((ds) => ds.uid)).toEqual(['prometheus']);
  });

  it('reach each backend by its compose service name and port', () => {
    for (const ds of datasources) {
      const url = new URL(ds.url);
      const backend = services.get(url.hostname)?.service;
      expect(backend, `${ds.uid}: ${ds.url}`).toBeDefined();
      expect(
        portsOf(backend ?? {}).map((p) => p.target),
        ds.url,
      ).toContain(Number(url.port));
    }
  });

  it('link only to datasources that are provisioned', () => {
    const links = datasources.flatMap((ds) => linkedUids(ds.jsonData, ds.uid));
    expect(links.length).toBeGreaterThanOrEqual(5);
    for (const [where, uid] of links) expect(byUid.has(uid), `${where} -> ${uid}`).toBe(true);
  });

  it('write every literal $ as $$, so Grafana does not expand it from its environment', () => {
    const lines = datasourcesText.split('\n').filter((line) => !line.trim().startsWith('#'));
    for (const line of lines) expect(line.replaceAll('$$', ''), line).not.toContain('$');
  });
});

describe('the links a user follows', () => {
  it('from a trace to its logs: every line with its trace_id, from any service', () => {
    const link = jsonData('tempo').tracesToLogsV2 as { datasourceUid: string; customQuery: boolean; query: string };
    expect(link.datasourceUid).toBe('loki');
    expect(link.customQuery).toBe(true);
    const query = literal(link.query);
    // Grafana's own variables, written \${...} here to keep them out of JavaScript templates.
    const traceId = `\${__trace.traceId}`;
    expect(query).toContain(`trace_id="${traceId}"`);
    const sample = query.replace(traceId, '0af7651916cd43dd8448eb211c80319c');
    expect(parseErrors(logqlParser.parse(sample)), sample).toBe(0);

    // The query filters on what Alloy really sets: the `service` label and trace_id metadata.
    const alloy = stackAlloy();
    const processing = alloy.find((c) => c.kind === 'loki.process')?.body ?? '';
    expect(alloyObjectKeys(alloyBlock(processing, 'stage.structured_metadata') ?? '', 'values')).toContain('trace_id');
    expect(alloy.find((c) => c.kind === 'discovery.relabel')?.body).toContain('target_label  = "service"');
    expect(query).toMatch(/^\{service=/);
  });

  it('from a trace to the metrics of its service (service.name is the Prometheus job)', () => {
    const link = jsonData('tempo').tracesToMetrics as {
      datasourceUid: string;
      tags: { key: string; value: string }[];
      queries: { name: string; query: string }[];
    };
    expect(link.datasourceUid).toBe('prometheus');
    expect(link.tags).toEqual([{ key: 'service.name', value: 'job' }]);
    const jobs = stackPrometheusConfig().scrape_configs.map((j) => j.job_name);
    for (const name of APP_SERVICES) {
      expect(jobs).toContain(environmentOf(composeService(name)).OTEL_SERVICE_NAME);
    }
    expect(link.queries.length).toBeGreaterThan(0);
    for (const { name, query } of link.queries) {
      const sample = literal(query).replace('$__tags', 'job="frontend"').replace('$__rate_interval', '1m');
      expect(sample, name).not.toContain('$');
      expect(parseErrors(promqlParser.parse(sample)), sample).toBe(0);
    }
  });

  it('the service map and node graph, from the service-graph metrics in Prometheus', () => {
    // Grafana reads traces_service_graph_request_total and co. from this datasource;
    // the collector's servicegraph connector writes them, scraped by job span-metrics.
    expect(jsonData('tempo').serviceMap).toEqual({ datasourceUid: 'prometheus' });
    const overlay = readYaml<{ connectors: Record<string, unknown> }>(
      path.join(STACK_DIR, 'otel-collector', 'servicegraph.yaml'),
    );
    expect(Object.keys(overlay.connectors)).toEqual(['servicegraph']);
    expect(jsonData('tempo').nodeGraph).toEqual({ enabled: true });
  });

  it("from a latency exemplar to its trace (trace_id: the services' and the span metrics' label)", () => {
    const destinations = jsonData('prometheus').exemplarTraceIdDestinations as {
      name: string;
      datasourceUid: string;
    }[];
    expect(destinations.map((d) => [d.name, d.datasourceUid])).toEqual([['trace_id', 'tempo']]);
  });

  it('from a log line to its trace, by the trace_id structured metadata', () => {
    const fields = jsonData('loki').derivedFields as Record<string, string>[];
    expect(fields).toHaveLength(1);
    expect(fields[0]).toMatchObject({ matcherType: 'label', matcherRegex: 'trace_id', datasourceUid: 'tempo' });
    expect(literal(fields[0]?.url ?? '')).toBe(`\${__value.raw}`);
  });
});

describe('the dashboards provider', () => {
  it('loads the grafana-dashboards folder, mounted where it looks', () => {
    expect(providers).toHaveLength(1);
    const [provider] = providers;
    expect(provider?.type).toBe('file');
    const mount = volumesOf(grafana).find((m) => m.target === provider?.options.path);
    expect(mount?.source).toBe('../grafana-dashboards');
    const folder = path.resolve(STACK_DIR, mount?.source ?? '');
    expect(existsSync(folder) && statSync(folder).isDirectory()).toBe(true);
  });

  it('and the provisioning files are mounted into Grafana', () => {
    const targets = new Map(volumesOf(grafana).map((m) => [m.target, path.resolve(STACK_DIR, m.source)]));
    expect(targets.get('/etc/grafana/provisioning/datasources/datasources.yaml')).toBe(DATASOURCES_FILE);
    expect(targets.get('/etc/grafana/provisioning/dashboards/dashboards.yaml')).toBe(DASHBOARDS_FILE);
  });
});

describe('access to Grafana', () => {
  it('is anonymous, and therefore published on 127.0.0.1 only', () => {
    expect(environmentOf(grafana)).toMatchObject({ GF_AUTH_ANONYMOUS_ENABLED: 'true' });
    expect(['Viewer', 'Editor']).toContain(environmentOf(grafana).GF_AUTH_ANONYMOUS_ORG_ROLE);
    expect(portsOf(grafana)).toEqual([{ hostIp: '127.0.0.1', published: 3000, target: 3000 }]);
  });
});
