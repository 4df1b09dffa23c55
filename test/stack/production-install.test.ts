import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports';
import { eventually } from '../support/prometheus';
import { APP_SERVICES, BUILT_SERVICES, builtImage, execForm, readText, repoPath } from '../support/stack';

/**
 * What no Docker engine here can show: that each image has every runtime
 * dependency. The stages that make the image (the Dockerfile's runtime stage and
 * the image's target, with compose's build arguments) are replayed in a temporary
 * folder standing for /app: the same COPY instructions (the build stage's output
 * being the compiled workspaces `npm test` has just built), the same `npm ci`
 * command, then the image's command is started and must answer /health.
 */

type BuiltService = (typeof BUILT_SERVICES)[number];

interface ReplayedImage {
  root: string;
  workdir: string;
  env: Record<string, string>;
  command: string[];
}

/** The environment the replayed services run with: nothing inherited. */
function cleanEnvironment(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
}

/**
 * The environment npm runs with: this machine's (registry, proxy and certificate
 * settings included), less what `npm test` sets for its own scripts, which would
 * point the install at the repository instead of the temporary folder.
 */
const NPM_SCRIPT_VARIABLES =
  /^npm_(lifecycle_|package_|command$|config_(local_prefix|prefix|workspaces?|include_workspace_root|omit|include|global)$)/i;

function npmEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && !NPM_SCRIPT_VARIABLES.test(entry[0]),
    ),
  );
}

function run(command: string, args: string[], cwd: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

/** The workspaces `tsc --build <workspace>` compiles: it and those its tsconfig references, transitively. */
function compiledWorkspaces(workspace: string, found = new Set<string>()): Set<string> {
  found.add(workspace);
  const tsconfig = JSON.parse(readText(repoPath(workspace, 'tsconfig.json'))) as { references?: { path: string }[] };
  for (const reference of tsconfig.references ?? []) {
    const referenced = path.basename(path.resolve(repoPath(workspace), reference.path));
    if (!found.has(referenced)) compiledWorkspaces(referenced, found);
  }
  return found;
}

/** Left out of the build stage's /out: the TypeScript, and what .dockerignore keeps from the context. */
const NOT_IN_OUT = /^(src|tsconfig.*|node_modules|test|.*\.md|.*\.tsbuildinfo)$/;

/** The build stage's /out, for `workspace`: each compiled workspace, all of it but the TypeScript. */
function copyBuildOutput(workspace: string, dest: string): void {
  for (const compiled of compiledWorkspaces(workspace)) {
    cpSync(repoPath(compiled), path.join(dest, compiled), {
      recursive: true,
      filter: (source) => !NOT_IN_OUT.test(path.basename(source)) || source === repoPath(compiled),
    });
  }
}

/** Replays the stages of the image compose builds for `name`, in a temporary folder. */
async function replayImage(name: BuiltService): Promise<ReplayedImage> {
  const root = mkdtempSync(path.join(tmpdir(), `image-${name}-`));
  const { build, instructions: image } = builtImage(name);
  const inImage = (p: string, workdir: string) =>
    p.startsWith('/app') ? path.join(root, p.slice(4)) : path.join(workdir, p);
  let workdir = root;
  const env: Record<string, string> = {};
  let command: string[] = [];
  for (const { keyword, args } of image) {
    if (keyword === 'WORKDIR') {
      workdir = inImage(args, workdir);
      mkdirSync(workdir, { recursive: true });
    } else if (keyword === 'ENV') {
      const [key = '', value = ''] = args.split('=', 2);
      env[key] = value;
    } else if (keyword === 'COPY') {
      const words = args.split(/\s+/);
      const paths = words.filter((w) => !w.startsWith('--'));
      const dest = inImage(paths.at(-1) ?? '', workdir);
      if (words.includes('--from=build')) {
        expect(paths).toEqual(['/out/', './']);
        copyBuildOutput(build.args.WORKSPACE ?? '', dest);
        continue;
      }
      for (const source of paths.slice(0, -1)) {
        const from = repoPath(source);
        const target = dest.endsWith('/') && statSync(from).isFile() ? path.join(dest, path.basename(from)) : dest;
        mkdirSync(path.dirname(target), { recursive: true });
        cpSync(from, target, { recursive: true });
      }
    } else if (keyword === 'RUN' && args.startsWith('test -n ')) {
      // A build argument's check: compose gives it a value.
      expect(/^test -n "([^"]*)"/.exec(args)?.[1], args).not.toBe('');
    } else if (keyword === 'RUN') {
      // Only the install; `npm cache clean` would empty this machine's npm cache.
      const install = args.split('&&')[0]?.trim() ?? '';
      expect(install).toMatch(/^npm ci /);
      const [, ...npmArgs] = install.split(/\s+/).map((word) => word.replace(/^"(.*)"$/, '$1'));
      await run('npm', [...npmArgs, '--prefer-offline'], workdir, { ...npmEnvironment(), ...env });
    } else if (keyword === 'ENTRYPOINT' || keyword === 'CMD') {
      command = [...(keyword === 'CMD' ? command : []), ...execForm(args)];
    }
  }
  return { root, workdir, env, command };
}

/** Bare module specifiers required by the compiled JavaScript under `dir`. */
function requiredModules(dir: string): { file: string; specifier: string }[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) return requiredModules(full);
    if (!entry.endsWith('.js')) return [];
    return [...readText(full).matchAll(/require\("([^".][^"]*)"\)/g)].map((m) => ({
      file: full,
      specifier: m[1] as string,
    }));
  });
}

const images = new Map<BuiltService, ReplayedImage>();

beforeAll(async () => {
  // Two at a time: npm ci is CPU-bound, and this machine has two cores.
  for (const pair of [BUILT_SERVICES.slice(0, 2), BUILT_SERVICES.slice(2)]) {
    const replayed = await Promise.all(pair.map(replayImage));
    for (const [i, name] of pair.entries()) images.set(name, replayed[i] as ReplayedImage);
  }
}, 300_000);

// Four installed trees of some 15,000 files each: deleted side by side, and given
// time, since a busy machine deletes them slowly.
afterAll(async () => {
  await Promise.all([...images.values()].map((image) => rm(image.root, { recursive: true, force: true })));
}, 300_000);

describe.each(BUILT_SERVICES)('the %s image', (name) => {
  it('resolves every module its compiled code requires, and the telemetry bootstrap', () => {
    const image = images.get(name) as ReplayedImage;
    const fromWorkdir = createRequire(path.join(image.workdir, 'entry.js'));
    expect(fromWorkdir.resolve('@dice-roller/telemetry/register')).toContain(image.root);
    const modules = requiredModules(image.root).filter(
      ({ file }) => !file.includes(`${path.sep}node_modules${path.sep}`),
    );
    expect(modules.length).toBeGreaterThan(0);
    for (const { file, specifier } of modules) {
      if (specifier.startsWith('node:')) continue;
      expect(() => createRequire(file).resolve(specifier), `${specifier} from ${file}`).not.toThrow();
    }
  });

  it('keeps development dependencies out', () => {
    const image = images.get(name) as ReplayedImage;
    const fromWorkdir = createRequire(path.join(image.workdir, 'entry.js'));
    for (const devOnly of ['typescript', 'vitest', '@biomejs/biome']) {
      expect(() => fromWorkdir.resolve(devOnly), devOnly).toThrow();
    }
  });
});

describe.each(APP_SERVICES)('the %s image command', (name) => {
  it('starts the service from the production tree and answers /health', async () => {
    const image = images.get(name) as ReplayedImage;
    const [executable = '', ...args] = image.command;
    expect(executable).toBe('node');
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      cwd: image.workdir,
      env: {
        ...cleanEnvironment(),
        ...image.env,
        PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const status = await eventually(
        `${name} /health`,
        async () => {
          if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${output}`);
          const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) });
          return response.status;
        },
        { timeoutMs: 30_000 },
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      expect(status).toBe(200);
      if (name === 'frontend') {
        // The UI's static files are part of the image too.
        const page = await fetch(`http://127.0.0.1:${port}/`);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect((await fetch(`http://127.0.0.1:${port}/assets/app.js`)).status).toBe(200);
      }
    } finally {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 12_000);
      const code = await exited;
      clearTimeout(timer);
      expect(code, output).toBe(0);
    }
  });
});
