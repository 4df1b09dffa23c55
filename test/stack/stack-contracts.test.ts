import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ALLOY_CONFIG,
  APP_SERVICES,
  alloyBlock,
  alloyObjectKeys,
  alloyString,
  commandOf,
  composeService,
  environmentOf,
  loadProject,
  parseAlloy,
  portsOf,
  readText,
  readYaml,
  STACK_DIR,
  volumesOf,
} from '../support/stack';
import { stackPrometheusConfig } from '../support/stack-prometheus';

/**
 * What no binary here can check in the stack's configuration files: each parses,
 * its references resolve, and the hostnames and ports one file names are those
 * another file defines. (Prometheus' own file is also run: prometheus.test.ts.)
 */

const { services } = loadProject();
const stackFile = (...segments: string[]) => path.join(STACK_DIR, ...segments);

/** `host:port` of a URL or bare endpoint. */
function hostPort(endpoint: string): { host: string; port: number } {
  const url = new URL(endpoint.includes('://') ? endpoint : `tcp://${endpoint}`);
  return { host: url.hostname, port: Number(url.port) };
}

/** The config file a stack service mounts at `target`, as a path in the repository. */
function mountedConfig(name: string, target: string): string | undefined {
  const mount = volumesOf(composeService(name)).find((m) => m.target === target);
  return mount === undefined ? undefined : path.resolve(STACK_DIR, mount.source);
}

interface CollectorConfig {
  receivers: Record<string, { protocols?: Record<string, { endpoint?: string }> }>;
  processors: Record<string, unknown>;
  exporters: Record<string, { endpoint?: string; enable_open_metrics?: boolean }>;
  connectors?: Record<string, Record<string, unknown>>;
  extensions?: Record<string, unknown>;
  service: {
    extensions?: string[];
    telemetry?: {
      metrics?: { readers?: { pull?: { exporter?: { prometheus?: { host?: string; port?: number } } } }[] };
    };
    pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
  };
}

/** servicegraph.yaml: what it adds to config.yaml. */
interface CollectorOverlay {
  connectors: Record<string, Record<string, unknown>>;
  service: { pipelines: CollectorConfig['service']['pipelines'] };
  [key: string]: unknown;
}

interface TempoConfig {
  server: { http_listen_port: number };
  distributor: { receivers: { otlp: { protocols: Record<string, { endpoint: string }> } } };
  usage_report?: { reporting_enabled?: boolean };
  metrics_generator: {
    storage: { path: string; remote_write?: unknown };
    traces_storage: { path: string };
    processor?: { local_blocks?: { filter_server_spans?: boolean } };
  };
  compactor: { compaction: { block_retention: string } };
  storage: { trace: { backend: string; wal: { path: string }; local: { path: string } } };
  overrides: { defaults: { metrics_generator: { processors: string[] } } };
}

interface LokiConfig {
  auth_enabled: boolean;
  server: { http_listen_port: number };
  common: { path_prefix: string; storage: { filesystem: Record<string, string> } };
  schema_config: { configs: { store: string; object_store: string; schema: string }[] };
  limits_config: { allow_structured_metadata: boolean; retention_period?: string };
  compactor?: { working_directory?: string; retention_enabled?: boolean; delete_request_store?: string };
  analytics?: { reporting_enabled?: boolean };
}

const collector = readYaml<CollectorConfig>(stackFile('otel-collector', 'config.yaml'));
const serviceGraph = readYaml<CollectorOverlay>(stackFile('otel-collector', 'servicegraph.yaml'));
const tempo = readYaml<TempoConfig>(stackFile('tempo', 'tempo.yaml'));
const loki = readYaml<LokiConfig>(stackFile('loki', 'loki.yaml'));
const prometheus = stackPrometheusConfig();
const alloyText = readText(ALLOY_CONFIG);
const alloy = parseAlloy(alloyText);

describe('each stack service', () => {
  it('mounts the configuration file this repository keeps for it', () => {
    expect(mountedConfig('otel-collector', '/etc/otelcol-contrib/config.yaml')).toBe(
      stackFile('otel-collector', 'config.yaml'),
    );
    expect(mountedConfig('otel-collector', '/etc/otelcol-contrib/servicegraph.yaml')).toBe(
      stackFile('otel-collector', 'servicegraph.yaml'),
    );
    // config.yaml first: servicegraph.yaml adds to it.
    expect(commandOf(composeService('otel-collector'))).toEqual([
      '--config=/etc/otelcol-contrib/config.yaml',
      '--config=/etc/otelcol-contrib/servicegraph.yaml',
    ]);
    expect(mountedConfig('tempo', '/etc/tempo/tempo.yaml')).toBe(stackFile('tempo', 'tempo.yaml'));
    expect(commandOf(composeService('tempo'))).toContain('-config.file=/etc/tempo/tempo.yaml');
    expect(mountedConfig('loki', '/etc/loki/loki.yaml')).toBe(stackFile('loki', 'loki.yaml'));
    expect(commandOf(composeService('loki'))).toContain('-config.file=/etc/loki/loki.yaml');
    expect(mountedConfig('alloy', '/etc/alloy/config.alloy')).toBe(ALLOY_CONFIG);
    expect(commandOf(composeService('alloy')).at(-1)).toBe('/etc/alloy/config.alloy');
    expect(mountedConfig('prometheus', '/etc/prometheus/prometheus.yml')).toBe(
      stackFile('prometheus', 'prometheus.yml'),
    );
    expect(commandOf(composeService('prometheus'))).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it('has a healthcheck only where its image has BusyBox wget', () => {
    for (const name of ['otel-collector', 'tempo', 'loki', 'alloy']) {
      expect(composeService(name).healthcheck, name).toBeUndefined();
    }
    // BusyBox wget is in the Prometheus and (Alpine-based) Grafana images.
    for (const [name, url] of [
      ['prometheus', 'http://127.0.0.1:9090/-/ready'],
      ['grafana', 'http://127.0.0.1:3000/api/health'],
    ] as const) {
      const test = composeService(name).healthcheck?.test as string[];
      expect(test.slice(0, 2), name).toEqual(['CMD', 'wget']);
      expect(test.at(-1)).toBe(url);
    }
  });

  it('keeps its data in a named volume at the path its configuration writes to', () => {
    const dataVolume = (name: string) => volumesOf(composeService(name)).find((m) => !m.bind)?.target;
    expect(dataVolume('tempo')).toBe('/var/tempo');
    for (const p of [
      tempo.storage.trace.wal.path,
      tempo.storage.trace.local.path,
      tempo.metrics_generator.storage.path,
      tempo.metrics_generator.traces_storage.path,
    ]) {
      expect(p.startsWith('/var/tempo/'), p).toBe(true);
    }
    expect(dataVolume('loki')).toBe(loki.common.path_prefix);
    for (const p of Object.values(loki.common.storage.filesystem))
      expect(p.startsWith(`${loki.common.path_prefix}/`)).toBe(true);
    expect(dataVolume('prometheus')).toBe('/prometheus');
    expect(commandOf(composeService('prometheus'))).toContain('--storage.tsdb.path=/prometheus');
    expect(dataVolume('grafana')).toBe('/var/lib/grafana');
    const alloyStorage = commandOf(composeService('alloy')).find((arg) => arg.startsWith('--storage.path='));
    expect(dataVolume('alloy')).toBe(alloyStorage?.slice('--storage.path='.length));
  });
});

describe('the OpenTelemetry Collector configuration', () => {
  /** Component ids are `type[/name]`. */
  const type = (id: string) => id.split('/')[0] as string;
  const pipelines = { ...collector.service.pipelines, ...serviceGraph.service.pipelines };

  it('uses only components of the pinned contrib release, under their current names', () => {
    expect(composeService('otel-collector').image).toBe('otel/opentelemetry-collector-contrib:0.159.0');
    for (const id of Object.keys(collector.receivers)) expect(['otlp']).toContain(type(id));
    for (const id of Object.keys(collector.processors)) expect(['memory_limiter', 'batch']).toContain(type(id));
    // `otlp` and `otlphttp` are the deprecated aliases of the OTLP exporters since 0.144.0.
    for (const id of Object.keys(collector.exporters))
      expect(['otlp_grpc', 'otlp_http', 'prometheus']).toContain(type(id));
    // `spanmetrics` is span_metrics' deprecated alias.
    expect(Object.keys(collector.connectors ?? {})).toEqual(['span_metrics']);
    expect(Object.keys(serviceGraph.connectors)).toEqual(['servicegraph']);
  });

  it('has every component a pipeline names, and names every component it defines', () => {
    const connectors = Object.keys({ ...collector.connectors, ...serviceGraph.connectors });
    const used = { receivers: new Set<string>(), processors: new Set<string>(), exporters: new Set<string>() };
    for (const [name, pipeline] of Object.entries(pipelines)) {
      for (const kind of ['receivers', 'processors', 'exporters'] as const) {
        for (const id of pipeline[kind] ?? []) {
          // A connector is the exporter of one pipeline and the receiver of another.
          if (kind !== 'processors' && connectors.includes(id)) continue;
          expect(Object.keys(collector[kind]), `${name} pipeline: ${kind} ${id}`).toContain(id);
          used[kind].add(id);
        }
      }
    }
    for (const kind of ['receivers', 'processors', 'exporters'] as const) {
      expect([...used[kind]].sort(), kind).toEqual(Object.keys(collector[kind]).sort());
    }
    for (const connector of connectors) {
      const from = Object.values(pipelines).filter((p) => p.exporters.includes(connector));
      const to = Object.values(pipelines).filter((p) => p.receivers.includes(connector));
      expect(from.length, `${connector} fed by a traces pipeline`).toBe(1);
      expect(to.length, `${connector} read by a metrics pipeline`).toBe(1);
    }
    for (const id of collector.service.extensions ?? []) expect(Object.keys(collector.extensions ?? {})).toContain(id);
  });

  it('servicegraph.yaml only adds: a connector and pipelines config.yaml does not have', () => {
    // Merging replaces lists and overwrites keys: an overlay that restated one
    // would silently change config.yaml, which the tests run alone.
    expect(Object.keys(serviceGraph).sort()).toEqual(['connectors', 'service']);
    expect(Object.keys(serviceGraph.service)).toEqual(['pipelines']);
    for (const id of Object.keys(serviceGraph.connectors)) expect(collector.connectors ?? {}).not.toHaveProperty(id);
    for (const name of Object.keys(serviceGraph.service.pipelines)) {
      expect(collector.service.pipelines).not.toHaveProperty(name);
    }
  });

  it('limits memory first, then batches, in every traces pipeline', () => {
    for (const [name, pipeline] of Object.entries(pipelines).filter(([name]) => type(name) === 'traces')) {
      expect(pipeline.receivers, name).toEqual(['otlp']);
      expect(pipeline.processors, name).toEqual(['memory_limiter', 'batch']);
    }
  });

  it('derives span metrics and the service graph from every span, and Tempo no longer does', () => {
    expect(pipelines.traces?.exporters).toContain('span_metrics');
    expect(pipelines['metrics/span_metrics']).toEqual({ receivers: ['span_metrics'], exporters: ['prometheus'] });
    expect(pipelines['traces/servicegraph']?.exporters).toEqual(['servicegraph']);
    expect(pipelines['metrics/servicegraph']).toEqual({ receivers: ['servicegraph'], exporters: ['prometheus'] });
    expect(tempo.overrides.defaults.metrics_generator.processors).toEqual(['local-blocks']);
  });

  it('gives the span metrics bounded labels only: no request attribute becomes one', () => {
    const spanMetrics = collector.connectors?.span_metrics ?? {};
    expect(spanMetrics.dimensions).toBeUndefined();
    expect(spanMetrics.calls_dimensions).toBeUndefined();
    expect(spanMetrics.exclude_dimensions).toEqual(['collector.instance.id']);
    expect((spanMetrics.histogram as { dimensions?: unknown }).dimensions).toBeUndefined();
    expect(serviceGraph.connectors.servicegraph?.dimensions).toBeUndefined();
  });

  it('receives OTLP on every interface, on the ports the services and the host use', () => {
    const protocols = collector.receivers.otlp?.protocols ?? {};
    expect(protocols.grpc?.endpoint).toBe('0.0.0.0:4317');
    expect(protocols.http?.endpoint).toBe('0.0.0.0:4318');
    expect(portsOf(composeService('otel-collector'))).toEqual([
      { hostIp: '127.0.0.1', published: 4317, target: 4317 },
      { hostIp: '127.0.0.1', published: 4318, target: 4318 },
    ]);
    for (const name of [...APP_SERVICES, 'traffic-gen']) {
      const endpoint = hostPort(environmentOf(composeService(name)).OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
      expect(endpoint, name).toEqual({ host: 'otel-collector', port: hostPort(protocols.http?.endpoint ?? '').port });
    }
  });

  it("exports traces to Tempo's OTLP/HTTP receiver", () => {
    const exporter = collector.exporters['otlp_http/tempo'];
    const url = new URL(exporter?.endpoint ?? '');
    expect(url.protocol).toBe('http:');
    expect({ host: url.hostname, port: Number(url.port) }).toEqual({
      host: 'tempo',
      port: hostPort(tempo.distributor.receivers.otlp.protocols.http?.endpoint ?? '').port,
    });
    expect(collector.service.pipelines.traces?.exporters).toEqual(['otlp_http/tempo', 'span_metrics']);
  });

  it('serves its own metrics and the span metrics where Prometheus scrapes them', () => {
    const reader = collector.service.telemetry?.metrics?.readers?.[0]?.pull?.exporter?.prometheus;
    expect(reader?.host).toBe('0.0.0.0');
    const job = (name: string) => prometheus.scrape_configs.find((j) => j.job_name === name);
    expect(job('otel-collector')?.static_configs?.[0]?.targets).toEqual([`otel-collector:${reader?.port}`]);
    const exporter = collector.exporters.prometheus;
    expect(hostPort(exporter?.endpoint ?? '').host).toBe('0.0.0.0');
    expect(exporter?.enable_open_metrics).toBe(true); // exemplars travel in OpenMetrics only
    expect(job('span-metrics')?.static_configs?.[0]?.targets).toEqual([
      `otel-collector:${hostPort(exporter?.endpoint ?? '').port}`,
    ]);
    expect(job('span-metrics')?.honor_labels).toBe(true);
  });
});

describe('the Tempo configuration', () => {
  it('receives OTLP on every interface of its container', () => {
    for (const protocol of Object.values(tempo.distributor.receivers.otlp.protocols)) {
      expect(protocol.endpoint.startsWith('0.0.0.0:')).toBe(true);
    }
  });

  it('serves its API on the port published and named by Grafana', () => {
    expect(portsOf(composeService('tempo'))).toEqual([
      { hostIp: '127.0.0.1', published: tempo.server.http_listen_port, target: tempo.server.http_listen_port },
    ]);
  });

  it('writes nothing to Prometheus, so neither waits for the other', () => {
    expect(tempo.metrics_generator.storage.remote_write).toBeUndefined();
    expect(commandOf(composeService('prometheus'))).not.toContain('--web.enable-remote-write-receiver');
    expect(composeService('tempo').depends_on).toBeUndefined();
  });

  it('keeps every span in the local blocks TraceQL metrics read, as the backend blocks do', () => {
    expect(tempo.overrides.defaults.metrics_generator.processors).toContain('local-blocks');
    expect(tempo.metrics_generator.processor?.local_blocks?.filter_server_spans).toBe(false);
  });

  it('sends no usage reports', () => {
    expect(tempo.usage_report?.reporting_enabled).toBe(false);
  });

  it('stores traces locally', () => {
    expect(tempo.storage.trace.backend).toBe('local');
  });
});

describe('the Loki configuration', () => {
  it('is a single binary on the filesystem, schema v13, with structured metadata', () => {
    expect(loki.auth_enabled).toBe(false);
    expect(loki.schema_config.configs.at(-1)).toMatchObject({
      store: 'tsdb',
      object_store: 'filesystem',
      schema: 'v13',
    });
    expect(loki.limits_config.allow_structured_metadata).toBe(true);
  });

  it('deletes logs after 7 days, through the compactor', () => {
    expect(loki.limits_config.retention_period).toBe('168h');
    expect(loki.compactor?.retention_enabled).toBe(true);
    expect(loki.compactor?.delete_request_store).toBe('filesystem');
    expect(loki.compactor?.working_directory?.startsWith(`${loki.common.path_prefix}/`)).toBe(true);
  });

  it('sends no usage reports', () => {
    expect(loki.analytics?.reporting_enabled).toBe(false);
  });

  it('listens on the port published and written to by Alloy', () => {
    expect(portsOf(composeService('loki'))).toEqual([
      { hostIp: '127.0.0.1', published: loki.server.http_listen_port, target: loki.server.http_listen_port },
    ]);
  });
});

describe('the Alloy configuration', () => {
  const component = (kind: string) => {
    const found = alloy.filter((c) => c.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0] as (typeof alloy)[number];
  };

  it('refers only to components it declares', () => {
    const declared = new Set(alloy.map((c) => `${c.kind}.${c.label}`));
    const references = [
      ...alloyText.matchAll(/=\s*\[?\s*((?:discovery|loki)\.[a-z_.]+)\.(targets|rules|receiver|output)\b/g),
    ];
    expect(references.length).toBeGreaterThanOrEqual(3);
    for (const [, component] of references) expect(declared, component).toContain(component);
  });

  it('reads the Docker API through the socket compose mounts', () => {
    for (const kind of ['discovery.docker', 'loki.source.docker']) {
      expect(alloyString(component(kind).body, 'host')).toBe('unix:///var/run/docker.sock');
    }
    expect(volumesOf(composeService('alloy')).map((m) => m.target)).toContain('/var/run/docker.sock');
  });

  it('labels streams with service (the compose service name) and level, and nothing else', () => {
    const relabel = component('discovery.relabel').body;
    expect([...relabel.matchAll(/target_label\s*=\s*"([^"]+)"/g)].map((m) => m[1])).toEqual(['service']);
    expect(relabel).toContain('__meta_docker_container_label_com_docker_compose_service');
    const processing = component('loki.process').body;
    expect(alloyObjectKeys(alloyBlock(processing, 'stage.labels') ?? '', 'values')).toEqual(['level']);
    expect(component('loki.source.docker').body).not.toMatch(/\blabels\s*=/);
  });

  it('keeps trace_id and span_id as structured metadata, extracted from the JSON line', () => {
    const processing = component('loki.process').body;
    const extracted = alloyObjectKeys(alloyBlock(processing, 'stage.json') ?? '', 'expressions');
    expect(extracted).toEqual(expect.arrayContaining(['level', 'trace_id', 'span_id', 'timestamp']));
    expect(alloyObjectKeys(alloyBlock(processing, 'stage.structured_metadata') ?? '', 'values')).toEqual([
      'trace_id',
      'span_id',
    ]);
  });

  it('runs without usage reports', () => {
    expect(commandOf(composeService('alloy'))).toContain('--disable-reporting');
  });

  it("pushes to Loki's API", () => {
    const url = new URL(alloyString(alloyBlock(component('loki.write').body, 'endpoint') ?? '', 'url') ?? '');
    expect(url.hostname).toBe('loki');
    expect(Number(url.port)).toBe(loki.server.http_listen_port);
    expect(url.pathname).toBe('/loki/api/v1/push');
  });
});

describe('the Prometheus configuration', () => {
  const jobs = new Map(prometheus.scrape_configs.map((job) => [job.job_name, job]));

  it('scrapes each service as a job named after it, on its compose name and port', () => {
    for (const name of APP_SERVICES) {
      const port = portsOf(composeService(name))[0]?.target;
      expect(jobs.get(name)?.static_configs?.[0]?.targets, name).toEqual([`${name}:${port}`]);
      expect(jobs.get(name)?.metrics_path ?? '/metrics').toBe('/metrics');
      expect(environmentOf(composeService(name)).OTEL_SERVICE_NAME).toBe(name);
    }
  });

  it('scrapes the OpenTelemetry SDK metrics of each service on /metrics/otel', () => {
    for (const name of APP_SERVICES) {
      const job = jobs.get(`${name}-otel`);
      expect(job?.metrics_path).toBe('/metrics/otel');
      expect(job?.static_configs?.[0]?.targets).toEqual(jobs.get(name)?.static_configs?.[0]?.targets);
    }
  });

  it('scrapes the collector and itself, and nothing it cannot reach', () => {
    expect([...jobs.keys()].sort()).toEqual(
      [...APP_SERVICES, ...APP_SERVICES.map((s) => `${s}-otel`), 'otel-collector', 'span-metrics', 'prometheus'].sort(),
    );
    expect(jobs.get('prometheus')?.static_configs?.[0]?.targets).toEqual([
      `localhost:${portsOf(composeService('prometheus'))[0]?.target}`,
    ]);
    for (const job of jobs.values()) {
      for (const target of job.static_configs?.flatMap((g) => g.targets) ?? []) {
        const host = hostPort(target).host;
        expect(host === 'localhost' || services.has(host), `${job.job_name}: ${target}`).toBe(true);
      }
    }
  });

  it('finds its targets with static_configs only, which the Prometheus built for the tests keeps', () => {
    // stack/build/build.sh builds with remove_all_sd: no cloud service discovery.
    for (const job of jobs.values()) {
      const discoveries = Object.keys(job).filter((key) => key.endsWith('_sd_configs'));
      expect(discoveries, job.job_name).toEqual([]);
      expect(job.static_configs?.length, job.job_name).toBeGreaterThan(0);
    }
  });

  it('keeps 15 days of metrics and stores exemplars', () => {
    const command = commandOf(composeService('prometheus'));
    expect(command).toContain('--storage.tsdb.retention.time=15d');
    expect(command).toContain('--enable-feature=exemplar-storage');
  });
});
