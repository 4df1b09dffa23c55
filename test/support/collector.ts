import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { freePort } from './ports';
import { repoPath, STACK_DIR } from './stack';
import { requireBinary, StackProgram } from './stack-program';

/**
 * The real OpenTelemetry Collector: the binary stack/build/build.sh builds from
 * the Go modules of the release the compose file pins, run with the shipped
 * stack/otel-collector/config.yaml. Only addresses change, the collector's own
 * way (`--set`): it listens on loopback ports and sends traces to a test
 * receiver in Tempo's place. A missing binary is an error, never a reason to skip.
 */

export const COLLECTOR_BIN = repoPath('stack', 'build', 'bin', 'otelcol-dice-roller');
export const COLLECTOR_CONFIG = path.join(STACK_DIR, 'otel-collector', 'config.yaml');
export const COLLECTOR_SERVICEGRAPH_CONFIG = path.join(STACK_DIR, 'otel-collector', 'servicegraph.yaml');

/** Where the shipped config sends traces (Tempo's OTLP/HTTP endpoint), and where it exposes span metrics. */
export const TEMPO_EXPORTER = 'otlp_http/tempo';
export const SPAN_METRICS_EXPORTER = 'prometheus';

/**
 * The span metrics flushed each second instead of the shipped 15 s, so that they
 * reach Prometheus within seconds of a request (a timing, not an address: the
 * one other override the tests make).
 */
export const FAST_SPAN_METRICS_FLUSH = 'connectors::span_metrics::metrics_flush_interval=1s';

/** `otelcol validate` on the given config files, with the same overrides as a run. */
export function validateCollectorConfig(configs: string[], set: string[] = []) {
  return spawnSync(
    requireBinary(COLLECTOR_BIN),
    ['validate', ...configs.map((c) => `--config=${c}`), ...set.map((s) => `--set=${s}`)],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  );
}

export interface CollectorPorts {
  /** OTLP/HTTP receiver: the services' OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpHttp: number;
  otlpGrpc: number;
  /** The prometheus exporter: span metrics (job "span-metrics"). */
  spanMetrics: number;
  /** The collector's own metrics (job "otel-collector"). */
  telemetry: number;
}

export interface CollectorOptions {
  /** The OTLP/HTTP endpoint that stands in for Tempo's. */
  tempoEndpoint: string;
  /** Reuse these ports (a restart); free ones otherwise. */
  ports?: CollectorPorts;
  /** Extra `--set` overrides. */
  set?: string[];
}

export async function collectorPorts(): Promise<CollectorPorts> {
  const [otlpHttp, otlpGrpc, spanMetrics, telemetry] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  return { otlpHttp, otlpGrpc, spanMetrics, telemetry };
}

/** The `--set` overrides that move every address of the shipped config to loopback. */
export function loopbackOverrides(ports: CollectorPorts, tempoEndpoint: string): string[] {
  return [
    `receivers::otlp::protocols::http::endpoint=127.0.0.1:${ports.otlpHttp}`,
    `receivers::otlp::protocols::grpc::endpoint=127.0.0.1:${ports.otlpGrpc}`,
    `exporters::${TEMPO_EXPORTER}::endpoint=${tempoEndpoint}`,
    `exporters::${SPAN_METRICS_EXPORTER}::endpoint=127.0.0.1:${ports.spanMetrics}`,
    `service::telemetry::metrics::readers=[{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${ports.telemetry}}}}}]`,
  ];
}

export class CollectorProcess extends StackProgram {
  constructor(
    readonly ports: CollectorPorts,
    child: ChildProcessByStdio<null, Readable, Readable>,
  ) {
    super(child);
  }

  /** The services' OTEL_EXPORTER_OTLP_ENDPOINT. */
  get otlpEndpoint(): string {
    return `http://127.0.0.1:${this.ports.otlpHttp}`;
  }
}

/** Starts the collector on the shipped config and resolves once it says it is ready. */
export async function startCollector({ tempoEndpoint, ports, set = [] }: CollectorOptions): Promise<CollectorProcess> {
  const chosen = ports ?? (await collectorPorts());
  const child = spawn(
    requireBinary(COLLECTOR_BIN),
    [`--config=${COLLECTOR_CONFIG}`, ...[...loopbackOverrides(chosen, tempoEndpoint), ...set].map((s) => `--set=${s}`)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const collector = new CollectorProcess(chosen, child);
  await collector.waitUntilReady('the collector', () => collector.log.includes('Everything is ready'));
  return collector;
}
