import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import {
  APP_SERVICES,
  BUILT_SERVICES,
  commandOf,
  composeService,
  DOCKERFILE,
  dependenciesOf,
  environmentOf,
  healthcheckCommand,
  imageBuildOf,
  includedFiles,
  labelsOf,
  loadProject,
  portsOf,
  ROOT_COMPOSE,
  readText,
  readYaml,
  repoPath,
  STACK_COMPOSE,
  stackAlloy,
  volumesOf,
} from '../support/stack';
import { stackPrometheusConfig } from '../support/stack-prometheus';

/**
 * docker-compose.yml and stack/docker-compose.yml, checked offline: the Compose
 * Specification schema, then what the schema cannot see (references between
 * files, paths on disk, ports and names that must agree).
 */

const SCHEMA_FILE = repoPath('test', 'schemas', 'compose-spec.json');
const { files, services } = loadProject();

describe('the compose files', () => {
  // The schema declares draft-07 without the trailing '#', which Ajv does not
  // recognise (see test/schemas/README.md).
  const ajv = new Ajv({ strict: false, validateSchema: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);

  it.each([ROOT_COMPOSE, STACK_COMPOSE])('%s follows the Compose Specification', (file) => {
    const valid = validate(readYaml(file));
    expect(validate.errors ?? [], file).toEqual([]);
    expect(valid).toBe(true);
  });

  it('start everything with one command: the root file includes the stack', () => {
    expect(includedFiles(ROOT_COMPOSE, readYaml(ROOT_COMPOSE))).toEqual([STACK_COMPOSE]);
    expect([...services.keys()].sort()).toEqual(
      [
        'alloy',
        'dice-roller',
        'die-service',
        'frontend',
        'grafana',
        'loki',
        'otel-collector',
        'prometheus',
        'tempo',
        'traffic-gen',
      ].sort(),
    );
  });

  it('let the stack run alone: it depends on nothing outside its own file', () => {
    const stack = readYaml<{ services: Record<string, object> }>(STACK_COMPOSE);
    for (const [name, definition] of Object.entries(stack.services)) {
      for (const dependency of Object.keys(dependenciesOf(definition))) {
        expect(Object.keys(stack.services), `${name} depends on ${dependency}`).toContain(dependency);
      }
    }
  });

  it('start the services without waiting for Prometheus or Grafana, at any depth (a slow WAL replay delays nothing)', () => {
    const reached = (name: string, seen = new Set<string>()): Set<string> => {
      for (const dependency of Object.keys(dependenciesOf(composeService(name)))) {
        if (!seen.has(dependency)) reached(dependency, seen.add(dependency));
      }
      return seen;
    };
    for (const name of BUILT_SERVICES) {
      const dependencies = reached(name);
      expect(dependencies.has('prometheus'), `${name} waits for prometheus`).toBe(false);
      expect(dependencies.has('grafana'), `${name} waits for grafana`).toBe(false);
    }
  });

  it('depend only on services that exist, and wait for health only where there is a healthcheck', () => {
    for (const { name, service: definition } of services.values()) {
      for (const [dependency, condition] of Object.entries(dependenciesOf(definition))) {
        expect(services.has(dependency), `${name} depends on unknown ${dependency}`).toBe(true);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') {
          expect(
            healthcheckCommand(composeService(dependency)),
            `${name} waits for ${dependency} to be healthy`,
          ).toBeDefined();
        }
      }
    }
  });

  it('build every image from the workspace root and its one Dockerfile', () => {
    for (const name of BUILT_SERVICES) {
      const { build } = composeService(name);
      expect(typeof build, name).toBe('object');
      if (typeof build !== 'object') continue;
      const context = path.resolve(path.dirname(ROOT_COMPOSE), build.context ?? '.');
      expect(context, `${name} builds from the workspace root`).toBe(repoPath());
      expect(path.join(context, build.dockerfile ?? 'Dockerfile')).toBe(DOCKERFILE);
      expect(existsSync(DOCKERFILE)).toBe(true);
      expect(imageBuildOf(composeService(name)).args.WORKSPACE, name).toBe(name);
    }
  });

  it('pin every image they pull (no latest, no missing tag)', () => {
    for (const { name, service: definition } of services.values()) {
      if (definition.build !== undefined) continue;
      const image = definition.image ?? '';
      const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
      expect(tag, `${name}: ${image}`).toBeDefined();
      expect(tag, `${name}: ${image}`).toMatch(/^v?\d+\.\d+\.\d+$/);
    }
  });

  it('mount only files and folders that exist, and declare every named volume', () => {
    for (const [file, compose] of files) {
      for (const [name, definition] of Object.entries(compose.services ?? {})) {
        for (const mount of volumesOf(definition)) {
          if (!mount.bind) {
            expect(Object.keys(compose.volumes ?? {}), `${name}: volume ${mount.source}`).toContain(mount.source);
            continue;
          }
          if (path.isAbsolute(mount.source)) {
            // The one host path: Alloy reads container logs through the Docker API.
            expect(`${name}:${mount.source}`).toBe('alloy:/var/run/docker.sock');
            expect(mount.readOnly).toBe(true);
            continue;
          }
          const source = path.resolve(path.dirname(file), mount.source);
          expect(existsSync(source), `${name}: ${mount.source} (from ${file})`).toBe(true);
          expect(mount.readOnly, `${name}: configuration mounted read-only`).toBe(true);
        }
      }
    }
  });

  it('publish ports on 127.0.0.1 only, each host port once', () => {
    const published: number[] = [];
    for (const { name, service: definition } of services.values()) {
      for (const port of portsOf(definition)) {
        expect(port.hostIp, `${name}: ${port.published}`).toBe('127.0.0.1');
        published.push(port.published);
      }
    }
    expect(new Set(published).size).toBe(published.length);
  });

  it('restart long-running services, and not the one-off traffic generator', () => {
    for (const { name, service: definition } of services.values()) {
      expect(definition.restart, name).toBe(name === 'traffic-gen' ? 'no' : 'unless-stopped');
    }
  });

  it('give each built container an init process, so signals reach node and orphans are reaped', () => {
    for (const name of BUILT_SERVICES) expect(composeService(name).init, name).toBe(true);
  });
});

// ---- the services ----

/** `readPort('PORT', 8103)` in the service's config: the port it listens on by default. */
function defaultPort(name: string): number {
  const match = /readPort\('PORT',\s*(\d+)\)/.exec(readText(repoPath(name, 'src', 'config.ts')));
  return Number(match?.[1]);
}

const prometheusConfig = stackPrometheusConfig();

describe.each(APP_SERVICES)('the %s service', (name) => {
  const definition = composeService(name);
  const env = environmentOf(definition);
  const port = defaultPort(name);

  it('listens, publishes, probes and is scraped on one port, its default', () => {
    expect(port).toBeGreaterThan(0);
    expect(env.PORT).toBe(String(port));
    expect(portsOf(definition)).toEqual([{ hostIp: '127.0.0.1', published: port, target: port }]);
    const job = prometheusConfig.scrape_configs.find((j) => j.job_name === name);
    expect(job?.static_configs?.[0]?.targets).toEqual([`${name}:${port}`]);
    expect(imageBuildOf(definition).args.PORT).toBe(String(port));
  });

  it('has a healthcheck on /health that needs nothing but node', () => {
    const command = healthcheckCommand(definition) ?? [];
    expect(command.slice(0, 2)).toEqual(['CMD', 'node']);
    expect(command.join(' ')).toContain(`http://127.0.0.1:${port}/health`);
  });

  it('sends traces to the collector under its compose service name', () => {
    expect(env.OTEL_SERVICE_NAME).toBe(name);
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
  });
});

describe('the links between the services', () => {
  it('point each client at its upstream by compose service name and port', () => {
    const upstreams: Record<string, string> = {
      DIE_SERVICE_URL: `http://die-service:${defaultPort('die-service')}`,
      DICE_ROLLER_URL: `http://dice-roller:${defaultPort('dice-roller')}`,
    };
    expect(environmentOf(composeService('dice-roller')).DIE_SERVICE_URL).toBe(upstreams.DIE_SERVICE_URL);
    expect(environmentOf(composeService('frontend')).DIE_SERVICE_URL).toBe(upstreams.DIE_SERVICE_URL);
    expect(environmentOf(composeService('frontend')).DICE_ROLLER_URL).toBe(upstreams.DICE_ROLLER_URL);
    expect(dependenciesOf(composeService('dice-roller'))['die-service']).toBe('service_healthy');
    expect(dependenciesOf(composeService('frontend'))['dice-roller']).toBe('service_healthy');
  });

  it("give the frontend Grafana's address as the browser reaches it", () => {
    const grafana = portsOf(composeService('grafana'))[0];
    expect(environmentOf(composeService('frontend')).GRAFANA_URL).toBe(`http://localhost:${grafana?.published}`);
  });

  it('run the traffic generator on demand, against the frontend', () => {
    const trafficGen = composeService('traffic-gen');
    expect(trafficGen.profiles).toEqual(['traffic']);
    const command = commandOf(trafficGen);
    expect(command[command.indexOf('--url') + 1]).toBe(`http://frontend:${defaultPort('frontend')}`);
    expect(environmentOf(trafficGen)).toMatchObject({
      OTEL_SERVICE_NAME: 'traffic-gen',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      LOG_STREAM: 'stderr',
    });
    expect(dependenciesOf(trafficGen).frontend).toBe('service_healthy');
  });

  it('label every built container for Alloy, with the label its discovery filters on', () => {
    const discovery = stackAlloy().find((c) => c.kind === 'discovery.docker');
    const filter = /values\s*=\s*\["([^"=]+)=([^"]+)"\]/.exec(discovery?.body ?? '');
    expect(filter).not.toBeNull();
    for (const name of BUILT_SERVICES) {
      expect(labelsOf(composeService(name))[filter?.[1] ?? ''], name).toBe(filter?.[2]);
    }
  });
});

// ---- environment variables ----

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return entry.endsWith('.ts') ? [full] : [];
  });
}

interface EnvironmentRead {
  name: string;
  /** The default as written in the code, or undefined where the variable is optional. */
  defaultValue: string | undefined;
}

/**
 * The variables the telemetry package reads directly from process.env, each with
 * what happens when it is unset. A new direct read must be added here (and given
 * a default in the code, or a value in compose).
 */
const DIRECT_READS_WITH_FALLBACK: Record<string, string> = {
  OTEL_SERVICE_NAME: 'the package name',
  LOG_STREAM: 'stdout',
  OTEL_LOG_LEVEL: 'SDK diagnostics at WARN through the service logger',
  OTEL_LOGS_EXPORTER: 'none',
  INIT_CWD: 'the working directory (set by npm only: a relative DIE_SPECS_FILE resolves where the command was typed)',
};

/** The environment variables a workspace's code reads, with their defaults, from its sources and telemetry's. */
function environmentReads(workspace: string): EnvironmentRead[] {
  const reads = new Map<string, EnvironmentRead>();
  const add = (name: string, defaultValue: string | undefined) => {
    if (!reads.has(name)) reads.set(name, { name, defaultValue });
  };
  for (const file of [...sourceFiles(repoPath(workspace, 'src')), ...sourceFiles(repoPath('telemetry', 'src'))]) {
    const code = readText(file);
    for (const m of code.matchAll(/read(?:Integer|Port|Url|String)\(\s*'([A-Z][A-Z0-9_]*)',\s*([^,)]+)/g)) {
      add(m[1] as string, (m[2] as string).trim());
    }
    for (const m of code.matchAll(/readOptionalUrl\(\s*'([A-Z][A-Z0-9_]*)'/g)) add(m[1] as string, undefined);
    for (const m of code.matchAll(/getBooleanFromEnv\(\s*'([A-Z][A-Z0-9_]*)'/g)) add(m[1] as string, 'false');
    if (/readLogLevel\(\)/.test(code)) add('LOG_LEVEL', "'info'");
    for (const m of code.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) {
      const name = m[1] as string;
      const fallback = DIRECT_READS_WITH_FALLBACK[name];
      if (fallback === undefined) throw new Error(`${file} reads ${name}: add it to DIRECT_READS_WITH_FALLBACK`);
      add(name, fallback);
    }
  }
  return [...reads.values()];
}

describe.each(BUILT_SERVICES)('the environment of %s', (name) => {
  const env = environmentOf(composeService(name));
  const reads = environmentReads(name);

  it('sets every variable whose default only works outside a container (a localhost URL)', () => {
    for (const read of reads) {
      if (read.defaultValue?.includes('localhost')) expect(env[read.name], read.name).toBeDefined();
    }
  });

  it('leaves no variable without a value: set in compose, defaulted in the code, or optional', () => {
    for (const read of reads) {
      const optional = read.defaultValue === undefined && read.name === 'GRAFANA_URL';
      expect(env[read.name] !== undefined || read.defaultValue !== undefined || optional, read.name).toBe(true);
    }
  });

  it('sets only variables the code reads, or standard OpenTelemetry ones', () => {
    const known = new Set(reads.map((read) => read.name));
    for (const key of Object.keys(env)) {
      expect(known.has(key) || key.startsWith('OTEL_'), `${name} sets ${key}, which nothing reads`).toBe(true);
    }
  });
});
