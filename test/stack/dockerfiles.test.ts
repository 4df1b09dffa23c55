import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  APP_SERVICES,
  BUILT_SERVICES,
  type DockerInstruction,
  execForm,
  parseDockerfile,
  readText,
  repoPath,
} from '../support/stack';
import { startScript } from '../support/start-script';

/**
 * The Dockerfiles, checked offline (no Docker engine here): the structure the
 * issue asks for, and that every file they copy exists and is in the build context.
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
    for (const path of ['package.json', 'package-lock.json', 'die-service/src', 'frontend/public']) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

describe.each(BUILT_SERVICES)('%s/Dockerfile', (name) => {
  const instructions = parseDockerfile(readText(repoPath(name, 'Dockerfile')));
  const finalStage = Math.max(...instructions.map((i) => i.stage));
  const inFinal = (keyword: string) => instructions.filter((i) => i.stage === finalStage && i.keyword === keyword);
  const runs = (stage: number) =>
    instructions.filter((i) => i.stage === stage && i.keyword === 'RUN').map((i) => i.args);

  it('builds in two stages from one pinned Node.js 24 slim image', () => {
    const arg = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:24\.\d+\.\d+-[a-z]+-slim$/);
    const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms).toEqual([`\${NODE_IMAGE} AS build`, `\${NODE_IMAGE}`]);
  });

  it('installs the workspace with npm ci, and production dependencies only in the final stage', () => {
    expect(runs(0).some((run) => run.startsWith('npm ci'))).toBe(true);
    expect(runs(0).some((run) => run.includes(`tsc --build ${name}`))).toBe(true);
    const install = runs(finalStage).find((run) => run.startsWith('npm ci'));
    expect(install).toMatch(new RegExp(`^npm ci --omit=dev --workspace ${name}\\b`));
    expect(inFinal('ENV').map((i) => i.args)).toContain('NODE_ENV=production');
  });

  it('copies every workspace manifest the lockfile needs, in both stages', () => {
    for (const stage of [0, finalStage]) {
      const copied = instructions
        .filter((i) => i.stage === stage && i.keyword === 'COPY')
        .flatMap((i) => copyParts(i).sources);
      for (const workspace of WORKSPACES) expect(copied, `stage ${stage}`).toContain(`${workspace}/package.json`);
      expect(copied).toContain('package-lock.json');
    }
  });

  it('copies only files that exist and that the build context keeps', () => {
    for (const instruction of instructions.filter((i) => i.keyword === 'COPY')) {
      const { from, sources } = copyParts(instruction);
      if (from !== undefined) continue;
      for (const source of sources) {
        expect(existsSync(repoPath(source)), source).toBe(true);
        expect(ignored(source), `${source} is excluded by .dockerignore`).toBe(false);
      }
    }
  });

  it('runs as the unprivileged node user', () => {
    const users = inFinal('USER');
    expect(users.at(-1)?.args).toBe('node');
  });

  it('starts node itself, in exec form, exactly as `npm start` does', () => {
    const start = startScript(name);
    const entry = [...inFinal('ENTRYPOINT'), ...inFinal('CMD')].map((i) => execForm(i.args));
    const command = name === 'traffic-gen' ? entry[0] : entry.at(-1);
    expect(command).toEqual(start.command);
    const env = inFinal('ENV').map((i) => i.args);
    for (const assignment of start.env) expect(env, "the start script's environment").toContain(assignment);
    const workdir = inFinal('WORKDIR').at(-1)?.args;
    expect(workdir).toBe(`/app/${name}`);
  });
});

describe.each(APP_SERVICES)('%s/Dockerfile', (name) => {
  const instructions = parseDockerfile(readText(repoPath(name, 'Dockerfile')));
  const finalStage = Math.max(...instructions.map((i) => i.stage));
  const inFinal = (keyword: string) => instructions.filter((i) => i.stage === finalStage && i.keyword === keyword);

  it('probes /health with node (the image has no curl)', () => {
    const healthcheck = inFinal('HEALTHCHECK')[0]?.args ?? '';
    const command = execForm(healthcheck.slice(healthcheck.indexOf('CMD')));
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    const exposed = inFinal('EXPOSE')[0]?.args;
    expect(command[2]).toContain(`(process.env.PORT || ${exposed}) + '/health'`);
  });
});
