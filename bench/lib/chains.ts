/**
 * The variants of the chain the benchmark compares, each started as real
 * processes on free loopback ports:
 *   1. the project as shipped: full tracing to a live OTLP sink, metrics, logs at
 *      the default level written to a file;
 *   2. the project with OTEL_SDK_DISABLED=true (metrics and logs still on);
 *   3. the yardstick: bare node:http servers with undici keep-alive pools;
 *   4. the yardstick with stock OpenTelemetry tracing (bare-chain/tracing.ts): what
 *      the SDK alone costs on this machine;
 *   5. the same hops on plain Express 5, no telemetry: what the framework costs;
 *   6. the project with head sampling: a tenth of the traces recorded and exported;
 *   7. (on request) the plain Express chain with the same stock tracing as 4: what
 *      the SDK costs on Express rather than on bare node:http;
 *   8. the project's services with their own SDK off and the stock tracing of 4
 *      instead (bare-chain/stock-tracing-in-project.ts): what the stock SDK costs in
 *      the project's code, the yardstick for what the project adds to it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/support/ports';
import {
  REPO_ROOT,
  type ServiceName,
  type ServiceProcess,
  startNodeProcess,
  startChain as startServices,
} from '../../test/support/service-process';

export const VARIANT_IDS = [1, 2, 3, 4, 5, 6, 7, 8] as const;
/** What `npm run bench` compares unless told otherwise. */
export const DEFAULT_VARIANTS = [1, 2, 3, 4, 5, 6, 8] as const satisfies readonly VariantId[];
export type VariantId = (typeof VARIANT_IDS)[number];

export const VARIANT_NAMES: Record<VariantId, string> = {
  1: 'project, full telemetry',
  2: 'project, OTEL_SDK_DISABLED=true',
  3: 'bare node:http chain',
  4: 'bare chain + OTel tracing',
  5: 'plain Express 5 chain',
  6: 'project, 10 % head sampling',
  7: 'plain Express + OTel tracing',
  8: 'project, stock OTel tracing',
};

/** The variants that export spans, each to a sink of its own so that each is counted apart. */
export const TRACED_VARIANTS = [1, 4, 6, 7, 8] as const satisfies readonly VariantId[];

/**
 * Variant 6's sampler, the standard environment variables: the frontend (the root
 * of every roll's trace) keeps a tenth of the traces, and the services behind it
 * follow its decision through the `traceparent` header's sampled flag.
 */
const HEAD_SAMPLING = { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' };

export interface ChainService {
  name: string;
  url: string;
  process: ServiceProcess;
  /** p99 event-loop delay in seconds since the previous call (each call starts a new window). */
  readLagP99(): Promise<number | undefined>;
}

export interface Chain {
  variant: VariantId;
  /** The URL the load drives: the frontend's /roll of a fair die. */
  rollUrl: string;
  services: ChainService[];
  stop(): Promise<void>;
}

export interface ChainOptions {
  /** Undefined leaves ROLL_DELAY_MAX_MS unset: the services' default (1000). */
  rollDelayMaxMs: number | undefined;
  /** Where the services' log files go. */
  logDir: string;
  /** A label for log file names. */
  label: string;
  /** For the traced variants: the OTLP endpoint spans are exported to. */
  otlpEndpoint?: string;
  /** Extra flags for node (such as --cpu-prof), per service name. */
  nodeFlags?: (service: string) => string[];
  /** Extra environment for the project's services (not the yardstick's). */
  env?: Record<string, string>;
  /** Where the project's services are (default: this repository; see bench/snapshot.ts). */
  root?: string;
}

export function baseEnvironment(): Record<string, string> {
  // Nothing inherited but PATH and HOME, so a developer's OTEL_* or LOG_LEVEL
  // cannot change what is measured. NODE_ENV as the Dockerfiles set it.
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production' };
}

function delayEnvironment(options: ChainOptions): Record<string, string> {
  return options.rollDelayMaxMs === undefined ? {} : { ROLL_DELAY_MAX_MS: String(options.rollDelayMaxMs) };
}

function logFile(options: ChainOptions, name: string): string {
  return path.join(options.logDir, `${options.label}-${name}.log`);
}

async function readPromLag(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/metrics`, {
      headers: { accept: 'text/plain' },
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    const match = /^nodejs_eventloop_lag_p99_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

async function readBareLag(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/__lag`, { signal: AbortSignal.timeout(5_000) });
    return ((await response.json()) as { p99_seconds: number }).p99_seconds;
  } catch {
    return undefined;
  }
}

async function checkRoll(rollUrl: string): Promise<void> {
  const response = await fetch(rollUrl, { signal: AbortSignal.timeout(10_000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`${rollUrl} answered ${response.status}: ${body}`);
}

async function stopAll(services: ChainService[]): Promise<void> {
  await Promise.all(services.map((service) => service.process.stop()));
}

/** Rolls once through the chain before it is measured; stops it if that fails. */
async function checked(chain: Chain): Promise<Chain> {
  try {
    await checkRoll(chain.rollUrl);
    return chain;
  } catch (error) {
    await chain.stop();
    throw error;
  }
}

const STOCK_TRACING_IN_PROJECT = path.join(__dirname, '..', 'bare-chain', 'stock-tracing-in-project.js');

type ProjectVariant = 1 | 2 | 6 | 8;

/** The environment that sets up each project variant's telemetry. */
function projectTelemetry(variant: ProjectVariant, otlpEndpoint: string): Record<string, string> {
  const exporting = { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint };
  switch (variant) {
    case 1:
      return exporting;
    case 2:
      return { OTEL_SDK_DISABLED: 'true' };
    case 6:
      return { ...exporting, ...HEAD_SAMPLING };
    case 8:
      return { ...exporting, OTEL_SDK_DISABLED: 'true' };
  }
}

/**
 * Variants 1, 2, 6 and 8: the chain the end-to-end tests start (test/support),
 * each service as `npm start` starts it, with its log written to a file.
 */
async function startProjectChain(variant: ProjectVariant, options: ChainOptions): Promise<Chain> {
  mkdirSync(options.logDir, { recursive: true });
  const telemetry = projectTelemetry(variant, options.otlpEndpoint ?? 'http://127.0.0.1:4318');
  const stockTracing = variant === 8 ? ['--require', STOCK_TRACING_IN_PROJECT] : [];
  const chain = await startServices(
    { ...telemetry, ...delayEnvironment(options), ...options.env },
    {},
    {
      baseEnv: baseEnvironment(),
      logFile: (name) => logFile(options, name),
      ...(options.root === undefined ? {} : { root: options.root }),
      nodeFlags: (name) => [...stockTracing, ...(options.nodeFlags?.(name) ?? [])],
    },
  );
  const services = chain.all.map((service) => ({
    name: service.name,
    url: service.url,
    process: service,
    readLagP99: () => readPromLag(service.url),
  }));
  return checked({ variant, rollUrl: `${chain.frontend.url}/roll?die=fair`, services, stop: () => stopAll(services) });
}

/**
 * The yardsticks in bench/bare-chain/, three processes like the project's:
 * variant 3 on bare node:http, variant 4 the same with stock OpenTelemetry tracing
 * loaded first, variant 5 on plain Express, variant 7 that with the same tracing.
 */
async function startYardstickChain(variant: 3 | 4 | 5 | 7, options: ChainOptions): Promise<Chain> {
  mkdirSync(options.logDir, { recursive: true });
  const [diePort, rollerPort, frontendPort] = [await freePort(), await freePort(), await freePort()];
  const onExpress = variant === 5 || variant === 7;
  const traced = variant === 4 || variant === 7;
  const script = path.join(__dirname, '..', 'bare-chain', onExpress ? 'express-server.js' : 'server.js');
  const tracing = traced ? ['--require', path.join(__dirname, '..', 'bare-chain', 'tracing.js')] : [];

  const start = async (name: ServiceName, role: string, port: number, env: Record<string, string>) => {
    const telemetry: Record<string, string> = traced
      ? { OTEL_SERVICE_NAME: name, OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint ?? 'http://127.0.0.1:4318' }
      : {};
    const process = await startNodeProcess(
      name,
      [...(options.nodeFlags?.(name) ?? []), ...tracing, script, role],
      REPO_ROOT,
      {
        port,
        baseEnv: baseEnvironment(),
        env: { ...telemetry, ...delayEnvironment(options), ...env },
        logFile: logFile(options, name),
      },
    );
    return { name, url: process.url, process, readLagP99: () => readBareLag(process.url) };
  };

  const services = await Promise.all([
    start('die-service', 'die', diePort, {}),
    start('dice-roller', 'roller', rollerPort, { UPSTREAM_URL: `http://127.0.0.1:${diePort}` }),
    start('frontend', 'frontend', frontendPort, { UPSTREAM_URL: `http://127.0.0.1:${rollerPort}` }),
  ]);
  return checked({
    variant,
    rollUrl: `http://127.0.0.1:${frontendPort}/roll?die=fair`,
    services,
    stop: () => stopAll(services),
  });
}

export function startChain(variant: VariantId, options: ChainOptions): Promise<Chain> {
  return variant === 1 || variant === 2 || variant === 6 || variant === 8
    ? startProjectChain(variant, options)
    : startYardstickChain(variant, options);
}
