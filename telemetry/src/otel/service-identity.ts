import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ServiceIdentity {
  /** `service.name` in traces and the `service` field of every log line. */
  readonly name: string;
  readonly version: string;
  /** Unique per process, so two replicas of one service stay apart in traces. */
  readonly instanceId: string;
}

interface PackageJson {
  name?: string;
  version?: string;
}

/** The package.json nearest to the script node was started with (`dist/server.js`). */
function findEntryPackage(entryScript: string | undefined): PackageJson {
  let dir = path.dirname(path.resolve(entryScript ?? '.'));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) return JSON.parse(readFileSync(candidate, 'utf8')) as PackageJson;
    const parent = path.dirname(dir);
    if (parent === dir) return {};
    dir = parent;
  }
}

function resolveServiceIdentity(): ServiceIdentity {
  const pkg = findEntryPackage(process.argv[1]);
  return {
    name: process.env.OTEL_SERVICE_NAME?.trim() || pkg.name || 'unknown_service:node',
    version: pkg.version ?? '0.0.0',
    instanceId: randomUUID(),
  };
}

export const serviceIdentity: ServiceIdentity = resolveServiceIdentity();
