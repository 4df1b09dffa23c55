/**
 * Reads V8 .cpuprofile files (as `node --cpu-prof` writes them) and says where the
 * CPU time went: self time by package (which library costs what), the functions
 * with the most self time, and, for chosen patterns, the inclusive time of every
 * stack that passes through a matching function.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Share {
  name: string;
  ms: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Milliseconds not idle: what the process actually spent. */
  busyMs: number;
  byPackage: Share[];
  topFunctions: Share[];
  inclusive: Share[];
}

/** Which package or part of the runtime a frame belongs to. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (idle), (program)
    return '(native)';
  }
  if (url.startsWith('node:')) return 'node core';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  const workspace = /\/(telemetry|die-service|dice-roller|frontend|bench)\/dist\//.exec(url);
  if (workspace?.[1] === 'telemetry') return '@dice-roller/telemetry';
  if (workspace?.[1] !== undefined) return `app (${workspace[1]})`;
  return url;
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^file:\/\/.*\/(\w[\w-]*\/dist\/)/, '$1');
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  return file === '' ? name : `${name} ${file}:${frame.lineNumber + 1}`;
}

function ranked(totals: Map<string, number>, busyMs: number, limit: number): Share[] {
  return [...totals.entries()]
    .map(([name, ms]) => ({ name, ms, percent: busyMs === 0 ? 0 : (100 * ms) / busyMs }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, limit);
}

export interface SummaryOptions {
  patterns?: readonly RegExp[];
  limit?: number;
  /**
   * Only samples taken inside this window count, in microseconds of the monotonic
   * clock (V8's profile timestamps and process.hrtime share it), so start-up and
   * shutdown stay out of a profile of the measured run.
   */
  window?: { startUs: number; endUs: number };
}

export function summariseProfile(
  file: string,
  { patterns = [], limit = 25, window }: SummaryOptions = {},
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

  const selfByNode = new Map<number, number>();
  let timestamp = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    // A sample's delta is the time since the previous one: the time this stack ran.
    const deltaUs = profile.timeDeltas[i] ?? 0;
    timestamp += deltaUs;
    if (window !== undefined && (timestamp < window.startUs || timestamp > window.endUs)) continue;
    selfByNode.set(id, (selfByNode.get(id) ?? 0) + deltaUs / 1000);
  }

  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of selfByNode) {
    const node = byId.get(id);
    if (node === undefined) continue;
    totalMs += ms;
    const pkg = packageOf(node.callFrame);
    if (pkg === '(idle)') {
      idleMs += ms;
      continue;
    }
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
    const name = frameName(node.callFrame);
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    if (patterns.length > 0) {
      // Each pattern counts a stack once, however many of its frames match.
      const matched = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
        const frame = byId.get(at)?.callFrame;
        if (frame === undefined) break;
        const text = `${frame.functionName} ${frame.url}`;
        for (const pattern of patterns) if (pattern.test(text)) matched.add(pattern.source);
      }
      for (const source of matched) inclusive.set(source, (inclusive.get(source) ?? 0) + ms);
    }
  }
  const busyMs = totalMs - idleMs;
  return {
    file,
    totalMs,
    busyMs,
    byPackage: ranked(byPackage, busyMs, limit),
    topFunctions: ranked(byFunction, busyMs, limit),
    inclusive: ranked(inclusive, busyMs, patterns.length),
  };
}

/**
 * The heaviest call paths ending in a function matching `pattern`: for each sample
 * whose stack passes through a match, the `depth` frames above the deepest match,
 * with the time of those samples. Says who calls an expensive function.
 */
export function callersOf(file: string, pattern: RegExp, depth = 6, limit = 10): Share[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const totals = new Map<string, number>();
  let busyMs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id)?.callFrame;
    if (leaf === undefined || leaf.functionName === '(idle)') continue;
    busyMs += ms;
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame !== undefined) stack.push(frame);
    }
    const match = stack.findIndex((frame) => pattern.test(`${frame.functionName} ${frame.url}`));
    if (match === -1) continue;
    const path = stack
      .slice(match, match + depth)
      .map(frameName)
      .join(' <- ');
    totals.set(path, (totals.get(path) ?? 0) + ms);
  }
  return ranked(totals, busyMs, limit);
}

function table(title: string, shares: Share[]): string {
  const lines = shares.map(
    (share) => `  ${share.percent.toFixed(1).padStart(5)} %  ${share.ms.toFixed(0).padStart(7)} ms  ${share.name}`,
  );
  return [`${title}`, ...lines].join('\n');
}

export function formatSummary(summary: ProfileSummary): string {
  const parts = [
    `${summary.file}: ${(summary.busyMs / 1000).toFixed(2)} s busy of ${(summary.totalMs / 1000).toFixed(2)} s profiled`,
    table(' self time by package (% of busy time):', summary.byPackage),
    table(' functions with the most self time:', summary.topFunctions),
  ];
  if (summary.inclusive.length > 0) parts.push(table(' inclusive time of stacks through:', summary.inclusive));
  return parts.join('\n');
}
