import { type ChildProcessByStdio, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { stringify } from 'yaml';
import { freePort } from './ports';
import { repoPath } from './stack';
import { requireBinary, StackProgram } from './stack-program';

/**
 * A real Prometheus server, the version the stack's compose file pins, built from
 * its Go module by stack/build/build.sh, on a free loopback port, with a
 * temporary data directory and the given configuration. A missing binary is an
 * error, never a reason to skip.
 */

export const PROMETHEUS_BIN = repoPath('stack', 'build', 'bin', 'prometheus');
export const PROMTOOL_BIN = repoPath('stack', 'build', 'bin', 'promtool');

/** promtool of the same build, with `input` on its standard input. */
export function runPromtool(args: string[], input?: string) {
  const result = spawnSync(requireBinary(PROMTOOL_BIN), args, { input, encoding: 'utf8', timeout: 30_000 });
  if (result.error !== undefined) throw new Error(`cannot run ${PROMTOOL_BIN}: ${result.error.message}`);
  return result;
}

export interface PrometheusConfig {
  global?: Record<string, unknown>;
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
}

export interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  [key: string]: unknown;
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveTarget {
  labels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
}

export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: string; timestamp: number }[];
}

export class PrometheusServer extends StackProgram {
  constructor(
    readonly url: string,
    child: ChildProcessByStdio<null, Readable, Readable>,
    private readonly dataDir: string,
  ) {
    super(child);
  }

  async api<T>(endpoint: string, params: Record<string, string> = {}): Promise<T> {
    const query = new URLSearchParams(params).toString();
    const response = await fetch(`${this.url}/api/v1/${endpoint}${query === '' ? '' : `?${query}`}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await response.json()) as ApiResponse<T>;
    if (body.status !== 'success') throw new Error(`Prometheus ${endpoint}: ${body.error ?? response.status}`);
    return body.data;
  }

  /** An instant query's vector result. */
  async query(expression: string): Promise<Sample[]> {
    const data = await this.api<{ resultType: string; result: Sample[] }>('query', { query: expression });
    return data.result;
  }

  async activeTargets(): Promise<ActiveTarget[]> {
    return (await this.api<{ activeTargets: ActiveTarget[] }>('targets', { state: 'active' })).activeTargets;
  }

  async exemplars(expression: string, sinceSeconds: number): Promise<ExemplarSeries[]> {
    const now = Date.now() / 1000;
    return this.api<ExemplarSeries[]>('query_exemplars', {
      query: expression,
      start: String(now - sinceSeconds),
      end: String(now + 60),
    });
  }

  /** Stops Prometheus, then removes its data directory. */
  override async stop(graceMs?: number): Promise<void> {
    try {
      await super.stop(graceMs);
    } finally {
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }
}

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Errors that waiting cannot cure (an invalid query): thrown at once instead of retried. */
  isFinal?: (error: unknown) => boolean;
}

/**
 * Polls `probe` until it returns a value other than undefined; fails after
 * `timeoutMs` with the last error or value it saw.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 250, isFinal = () => false }: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      if (isFinal(error)) throw error;
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not true within ${timeoutMs} ms${last === undefined ? '' : ` (last error: ${last})`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Starts Prometheus with exemplar storage, as the stack runs it. `config` receives the port Prometheus listens on (for its own
 * scrape job) and returns the configuration to run.
 */
export async function startPrometheus(config: (port: number) => PrometheusConfig): Promise<PrometheusServer> {
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'prometheus-test-'));
  const configFile = path.join(dataDir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config(port)));
  const binary = requireBinary(PROMETHEUS_BIN);
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dataDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`cannot run ${binary}: ${error.message}`)));
  });
  try {
    await spawned;
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dataDir);
  await server.waitUntilReady('Prometheus', () =>
    fetch(`${server.url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.ok,
      () => false,
    ),
  );
  return server;
}
