import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  APP_SERVICES,
  BUILT_SERVICES,
  builtImage,
  composeService,
  DOCKERFILE,
  type DockerInstruction,
  environmentOf,
  execForm,
  parseDockerfile,
  readText,
  repoPath,
} from '../support/stack';
import { startScript } from '../support/start-script';

/**
 * The one Dockerfile, checked offline (no Docker engine here): its structure, that
 * every file it copies exists and is in the build context, and, for each image
 * compose builds from it, what that image runs.
 */

const WORKSPACES = (JSON.parse(readText(repoPath('package.json'))) as { workspaces: string[] }).workspaces;

/** .dockerignore patterns as regular expressions over context-relative paths. */
function dockerignore(): RegExp[] {
  return readText(repoPath('.dockerignore'))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((pattern) => {
      const body = pattern
        .replace(/^\//, '')
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '(.*/)?')
        .replace(/\*/g, '[^/]*');
      return new RegExp(`^${body}(/.*)?$`);
    });
}

function ignored(relative: string): boolean {
  return dockerignore().some((pattern) => pattern.test(relative.replace(/\/$/, '')));
}

/** `COPY [--from=x] src... dest` split into its parts. */
function copyParts(instruction: DockerInstruction): { from: string | undefined; sources: string[]; dest: string } {
  const words = instruction.args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' };
}

describe('.dockerignore', () => {
  it('keeps dependencies, build output, tests and the stack out of the build context', () => {
    for (const path of [
      'node_modules',
      'frontend/node_modules',
      'die-service/dist',
      'telemetry/tsconfig.tsbuildinfo',
      'test',
      'dice-roller/test',
      '.git',
      'stack',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of [
      'package.json',
      'package-lock.json',
      'die-service/src',
      'die-service/die_specifications.json',
      'frontend/public',
      'flags/faults.flagd.json',
    ]) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

const instructions = parseDockerfile(readText(DOCKERFILE));
const stageOf = (name: string) =>
  instructions.find((i) => i.keyword === 'FROM' && i.args.endsWith(` AS ${name}`))?.stage ?? -1;
const inStage = (stage: number, keyword: string) =>
  instructions.filter((i) => i.stage === stage && i.keyword === keyword).map((i) => i.args);

describe('the Dockerfile', () => {
  it('builds in stages from one pinned Node.js 24 slim image: manifests, build, runtime, one target per kind of image', () => {
    const arg = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:24\.\d+\.\d+-[a-z]+-slim$/);
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms).toEqual([
      `\${NODE_IMAGE} AS manifests`,
      'manifests AS build',
      'manifests AS runtime',
      'runtime AS traffic-gen',
      'runtime AS service',
    ]);
  });

  it('refuses to build without the workspace (and a service without its port)', () => {
    expect(inStage(stageOf('build'), 'ARG')).toEqual(['WORKSPACE']);
    expect(inStage(stageOf('build'), 'RUN')[0]).toMatch(/^test -n "\$WORKSPACE" \|\|/);
    expect(inStage(stageOf('service'), 'RUN')[0]).toMatch(/^test -n "\$PORT" \|\|/);
  });

  it('installs the workspace with npm ci and compiles the one named; production dependencies only at run time', () => {
    const build = inStage(stageOf('build'), 'RUN');
    expect(build.some((run) => run.startsWith('npm ci'))).toBe(true);
    expect(build).toContain('npx tsc --build "$WORKSPACE"');
    const install = inStage(stageOf('runtime'), 'RUN').find((run) => run.startsWith('npm ci'));
    expect(install).toMatch(/^npm ci --omit=dev --workspace "\$WORKSPACE"/);
    expect(inStage(stageOf('runtime'), 'ENV')).toContain('NODE_ENV=production');
    // The compiled output, without the TypeScript sources, is all the runtime takes from the build.
    const fromBuild = instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from='));
    expect(fromBuild.map((i) => [i.stage, i.args])).toEqual([[stageOf('runtime'), '--from=build /out/ ./']]);
  });

  it('copies every workspace manifest the lockfile needs, and nothing else, before either npm ci', () => {
    const copied = instructions
      .filter((i) => i.stage === stageOf('manifests') && i.keyword === 'COPY')
      .flatMap((i) => copyParts(i).sources);
    expect(copied.sort()).toEqual(
      ['package.json', 'package-lock.json', ...WORKSPACES.map((workspace) => `${workspace}/package.json`)].sort(),
    );
  });

  it('copies only files that exist and that the build context keeps', () => {
    for (const instruction of instructions.filter((i) => i.keyword === 'COPY')) {
      const { from, sources } = copyParts(instruction);
      if (from !== undefined) continue;
      for (const source of sources) {
        expect(existsSync(repoPath(source)), source).toBe(true);
        if (source !== '.') expect(ignored(source), `${source} is excluded by .dockerignore`).toBe(false);
      }
    }
  });

  it('runs as the unprivileged node user', () => {
    expect(inStage(stageOf('runtime'), 'USER').at(-1)).toBe('node');
    for (const target of ['traffic-gen', 'service']) expect(inStage(stageOf(target), 'USER')).toEqual([]);
  });

  it('is the only Dockerfile: no workspace keeps one of its own', () => {
    for (const name of BUILT_SERVICES) expect(existsSync(repoPath(name, 'Dockerfile')), name).toBe(false);
  });
});

describe.each(BUILT_SERVICES)('the %s image', (name) => {
  const { build, instructions: image } = builtImage(name);
  const finalStage = Math.max(...image.map((i) => i.stage));
  const inFinal = (keyword: string) => image.filter((i) => i.keyword === keyword);

  it('is built by compose from the Dockerfile with its workspace and target', () => {
    expect(build.args.WORKSPACE).toBe(name);
    expect(build.target).toBe(name === 'traffic-gen' ? 'traffic-gen' : 'service');
    expect(finalStage).toBe(stageOf(build.target));
  });

  it('starts node itself, in exec form, exactly as `npm start` does, in its workspace', () => {
    const start = startScript(name);
    const entry = [...inFinal('ENTRYPOINT'), ...inFinal('CMD')].map((i) => execForm(i.args));
    const command = name === 'traffic-gen' ? entry[0] : entry.at(-1);
    expect(command).toEqual(start.command);
    const env = inFinal('ENV').map((i) => i.args);
    for (const assignment of start.env) expect(env, "the start script's environment").toContain(assignment);
    expect(inFinal('WORKDIR').at(-1)?.args).toBe(`/app/${name}`);
  });
});

describe.each(APP_SERVICES)('the %s image', (name) => {
  const { build, instructions: image } = builtImage(name);
  const inFinal = (keyword: string) => image.filter((i) => i.keyword === keyword);

  it('probes /health on its port with node (the image has no curl)', () => {
    const port = build.args.PORT;
    expect(port).toBe(environmentOf(composeService(name)).PORT);
    expect(inFinal('EXPOSE').map((i) => i.args)).toEqual([port]);
    expect(inFinal('ENV').map((i) => i.args)).toContain(`PORT=${port}`);
    const healthcheck = inFinal('HEALTHCHECK')[0]?.args ?? '';
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD')));
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain(`'http://127.0.0.1:' + process.env.PORT + '/health'`);
  });
});
