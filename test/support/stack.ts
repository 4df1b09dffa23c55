import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT } from './service-process';

/**
 * Readers for the Docker and stack files, so that the offline checks in
 * test/stack/ compare what the files say rather than copies of it.
 */

export const STACK_DIR = path.join(REPO_ROOT, 'stack');
export const APP_SERVICES = ['die-service', 'dice-roller', 'frontend'] as const;
export type AppService = (typeof APP_SERVICES)[number];
/** Every image built from this repository: the services and the traffic generator. */
export const BUILT_SERVICES = [...APP_SERVICES, 'traffic-gen'] as const;

export function repoPath(...segments: string[]): string {
  return path.join(REPO_ROOT, ...segments);
}

export function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

export function readYaml<T = Record<string, unknown>>(file: string): T {
  return parseYaml(readText(file)) as T;
}

// ---- compose ----

export interface Healthcheck {
  test?: string | string[];
  interval?: string;
  disable?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string; args?: Record<string, string> | string[] };
  command?: string | string[];
  environment?: Record<string, string> | string[];
  ports?: (string | { published?: string | number; target?: number; host_ip?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  labels?: Record<string, string> | string[];
  healthcheck?: Healthcheck;
  depends_on?: string[] | Record<string, { condition?: string }>;
  profiles?: string[];
  restart?: string;
  init?: boolean;
}

export interface ComposeFile {
  name?: string;
  include?: (string | { path: string | string[] })[];
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** A service with the compose file that defines it (relative paths resolve from that file's folder). */
export interface LocatedService {
  name: string;
  file: string;
  service: ComposeService;
}

export const ROOT_COMPOSE = repoPath('docker-compose.yml');
export const STACK_COMPOSE = path.join(STACK_DIR, 'docker-compose.yml');

export function includedFiles(file: string, compose: ComposeFile): string[] {
  return (compose.include ?? []).flatMap((entry) => {
    const paths = typeof entry === 'string' ? [entry] : Array.isArray(entry.path) ? entry.path : [entry.path];
    return paths.map((p) => path.resolve(path.dirname(file), p));
  });
}

/** The project `docker compose up` at the root sees: the root file and what it includes. */
export function loadProject(): { files: Map<string, ComposeFile>; services: Map<string, LocatedService> } {
  const files = new Map<string, ComposeFile>();
  const services = new Map<string, LocatedService>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    const compose = readYaml<ComposeFile>(file);
    files.set(file, compose);
    for (const included of includedFiles(file, compose)) visit(included);
    for (const [name, service] of Object.entries(compose.services ?? {})) {
      if (services.has(name))
        throw new Error(`service ${name} is defined twice (${services.get(name)?.file}, ${file})`);
      services.set(name, { name, file, service });
    }
  };
  visit(ROOT_COMPOSE);
  return { files, services };
}

/** The compose service `name` of that project; throws when it has none. */
export function composeService(name: string): ComposeService {
  const located = loadProject().services.get(name);
  if (located === undefined) throw new Error(`no compose service ${name}`);
  return located.service;
}

export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(
    env.map((entry) => {
      const at = entry.indexOf('=');
      return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
    }),
  );
}

export function labelsOf(service: ComposeService): Record<string, string> {
  const labels = service.labels ?? {};
  if (!Array.isArray(labels)) return labels;
  return Object.fromEntries(labels.map((entry) => entry.split('=', 2) as [string, string]));
}

export interface PortMapping {
  hostIp: string | undefined;
  published: number;
  target: number;
}

/** `[ip:]published:target[/proto]` or the long syntax. */
export function portsOf(service: ComposeService): PortMapping[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { hostIp: port.host_ip, published: Number(port.published), target: Number(port.target) };
    }
    const parts = port.replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts.pop());
    const published = Number(parts.pop() ?? target);
    return { hostIp: parts.pop(), published, target };
  });
}

export interface VolumeMount {
  /** A named volume, or a host path as written (bind mount). */
  source: string;
  target: string;
  bind: boolean;
  readOnly: boolean;
}

export function volumesOf(service: ComposeService): VolumeMount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume === 'object') {
      const source = volume.source ?? '';
      return { source, target: volume.target ?? '', bind: volume.type === 'bind', readOnly: false };
    }
    const [source = '', target = '', mode = ''] = volume.split(':');
    const bind = source.startsWith('.') || source.startsWith('/') || source.startsWith('~');
    return { source, target, bind, readOnly: mode.split(',').includes('ro') };
  });
}

export function dependenciesOf(service: ComposeService): Record<string, string> {
  const dependsOn = service.depends_on ?? {};
  if (Array.isArray(dependsOn)) return Object.fromEntries(dependsOn.map((name) => [name, 'service_started']));
  return Object.fromEntries(
    Object.entries(dependsOn).map(([name, value]) => [name, value.condition ?? 'service_started']),
  );
}

export function healthcheckCommand(service: ComposeService): string[] | undefined {
  const test = service.healthcheck?.test;
  if (test === undefined || service.healthcheck?.disable === true) return undefined;
  return typeof test === 'string' ? ['CMD-SHELL', test] : test;
}

export function commandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return typeof command === 'string' ? command.split(/\s+/) : command;
}

// ---- Dockerfiles ----

export interface DockerInstruction {
  keyword: string;
  args: string;
  /** Index of the build stage (FROM) the instruction belongs to. */
  stage: number;
}

/** Instructions with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const instructions: DockerInstruction[] = [];
  let stage = -1;
  let pending = '';
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    if (full === '') continue;
    const [keyword = '', ...rest] = full.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage += 1;
    instructions.push({ keyword: upper, args: rest.join(' '), stage });
  }
  return instructions;
}

/** The one Dockerfile, at the repository root, that builds every image of BUILT_SERVICES. */
export const DOCKERFILE = repoPath('Dockerfile');

/** How compose builds an image from DOCKERFILE: the target stage and the build arguments. */
export interface ImageBuild {
  target: string;
  args: Record<string, string>;
}

/** The build compose asks for a built service (build.target, build.args). */
export function imageBuildOf(service: ComposeService): ImageBuild {
  const build = typeof service.build === 'object' ? service.build : {};
  const args = build.args ?? {};
  const entries = Array.isArray(args) ? args.map((a) => a.split('=', 2) as [string, string]) : Object.entries(args);
  return { target: build.target ?? '', args: Object.fromEntries(entries.map(([k, v]) => [k, String(v)])) };
}

/**
 * The instructions that make one image: those of the target stage and of the
 * stages it is built FROM, in order, with the build arguments substituted
 * (`$NAME`, `${NAME}`), as `docker build --target` would run them.
 */
export function imageInstructions(
  instructions: DockerInstruction[],
  { target, args }: ImageBuild,
): DockerInstruction[] {
  const stages = instructions
    .filter((i) => i.keyword === 'FROM')
    .map((i) => {
      const [base = '', , name = ''] = i.args.split(/\s+/);
      return { base, name, stage: i.stage };
    });
  const chain: number[] = [];
  for (let current = stages.find((s) => s.name === target); current !== undefined; ) {
    chain.unshift(current.stage);
    const base = current.base;
    current = stages.find((s) => s.name === base);
  }
  if (chain.length === 0) throw new Error(`no stage ${target} in the Dockerfile`);
  const substitute = (text: string) =>
    text.replace(/\$\{?([A-Z_][A-Z0-9_]*)\}?/g, (whole, name: string) => args[name] ?? whole);
  return instructions.filter((i) => chain.includes(i.stage)).map((i) => ({ ...i, args: substitute(i.args) }));
}

/** The image compose builds for service `name`: how (target, build arguments), and the instructions that make it. */
export function builtImage(name: string): { build: ImageBuild; instructions: DockerInstruction[] } {
  const build = imageBuildOf(composeService(name));
  return { build, instructions: imageInstructions(parseDockerfile(readText(DOCKERFILE)), build) };
}

/** The JSON array of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK ... CMD). */
export function execForm(args: string): string[] {
  const start = args.indexOf('[');
  if (start === -1) throw new Error(`not in exec form: ${args}`);
  return JSON.parse(args.slice(start)) as string[];
}

// ---- Alloy ----

export interface AlloyComponent {
  /** e.g. `loki.process` */
  kind: string;
  label: string;
  body: string;
}

/** The shipped Alloy configuration. */
export const ALLOY_CONFIG = path.join(STACK_DIR, 'alloy', 'config.alloy');

/** The components of the shipped Alloy configuration. */
export function stackAlloy(): AlloyComponent[] {
  return parseAlloy(readText(ALLOY_CONFIG));
}

/** Top-level components `kind "label" { ... }` of an Alloy configuration, comments removed. */
export function parseAlloy(text: string): AlloyComponent[] {
  const source = text
    .split('\n')
    .map((line) => line.replace(/^\s*\/\/.*$/, ''))
    .join('\n');
  const components: AlloyComponent[] = [];
  const header = /^([a-z_][a-z0-9_.]*)\s+"([^"]+)"\s*\{/gm;
  for (let match = header.exec(source); match !== null; match = header.exec(source)) {
    let depth = 1;
    let i = header.lastIndex;
    for (; i < source.length && depth > 0; i++) {
      if (source[i] === '{') depth++;
      else if (source[i] === '}') depth--;
    }
    components.push({
      kind: match[1] as string,
      label: match[2] as string,
      body: source.slice(header.lastIndex, i - 1),
    });
    header.lastIndex = i;
  }
  return components;
}

/** The `key = value` pairs of the first `block { ... }` named `block` inside a component body. */
export function alloyBlock(body: string, block: string): string | undefined {
  const start = new RegExp(`(^|\\s)${block.replace(/\./g, '\\.')}\\s*\\{`).exec(body);
  if (start === null) return undefined;
  let depth = 1;
  let i = start.index + start[0].length;
  const from = i;
  for (; i < body.length && depth > 0; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
  }
  return body.slice(from, i - 1);
}

/** `name = "value"` string attributes directly in a body (first occurrence). */
export function alloyString(body: string, attribute: string): string | undefined {
  return new RegExp(`(^|\\s)${attribute}\\s*=\\s*"([^"]*)"`).exec(body)?.[2];
}

/** Keys of an object literal attribute `attribute = { key = "...", ... }`. */
export function alloyObjectKeys(body: string, attribute: string): string[] {
  const match = new RegExp(`(^|\\s)${attribute}\\s*=\\s*\\{([^}]*)\\}`).exec(body);
  if (match === null) return [];
  return [...(match[2] as string).matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=/g)].map((m) => m[1] as string);
}
