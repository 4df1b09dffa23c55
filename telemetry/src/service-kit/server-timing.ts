import { AsyncLocalStorage } from 'node:async_hooks';
import { type SpanContext, TraceFlags, trace } from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import { formatServerTiming, relayableEntries, type ServerTimingEntry } from './server-timing-header';

export { serverTimingHeader } from './server-timing-header';

/** The `Server-Timing` of one response (see server-timing-header.ts), filled in while the request is handled. */
export class ServerTiming {
  private readonly startedAt = performance.now();
  private readonly waits: ServerTimingEntry[] = [];
  private readonly parts: ServerTimingEntry[] = [];
  private readonly relayed: ServerTimingEntry[] = [];

  constructor(readonly service: string) {}

  /** The name of the entry for this service's own time (`frontend`). */
  get totalName(): string {
    return this.service;
  }

  /** The name of the entry for the time spent waiting on upstreams (`frontend.wait`). */
  get waitName(): string {
    return `${this.service}.wait`;
  }

  /**
   * Records `waitedMs` spent waiting on `upstream`, and passes on the upstream's
   * own Server-Timing entries when it answered with any.
   */
  recordUpstream(upstream: string, waitedMs: number, upstreamHeader?: string): void {
    this.waits.push({ name: this.waitName, duration: waitedMs, description: `${this.service} waiting on ${upstream}` });
    this.relayed.push(...relayableEntries(upstreamHeader, new Set([this.totalName, this.waitName])));
  }

  /**
   * Records one part of this service's own work, `<service>.<name>`, that started at
   * `startedAt` (a `performance.now()` time) and took `durationMs`. Server-Timing
   * carries durations only, so the start goes into the description, counted from
   * this service's own start, where every hop relays it unchanged:
   * `dice-roller.roll.3;dur=412.3;desc="roll 3 started 2.1 ms into dice-roller"`.
   */
  recordPart(name: string, label: string, startedAt: number, durationMs: number): void {
    const offsetMs = Math.round(Math.max(0, startedAt - this.startedAt) * 100) / 100;
    this.parts.push({
      name: `${this.service}.${name}`,
      duration: durationMs,
      description: `${label} started ${offsetMs} ms into ${this.service}`,
    });
  }

  /** The header value, with this service's time up to now. */
  headerValue(): string {
    return formatServerTiming([
      { name: this.totalName, duration: performance.now() - this.startedAt, description: `${this.service} total` },
      ...this.waits,
      ...this.parts,
      ...this.relayed,
    ]);
  }
}

/**
 * `traceresponse` (W3C Trace Context Level 2): the trace and the span that served
 * the request, `00-<trace-id>-<span-id>-<flags>`, so a client can find the trace.
 * Undefined when there is no valid span (no SDK, OTEL_SDK_DISABLED=true).
 */
export function traceResponseHeader(spanContext: SpanContext | undefined): string | undefined {
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  const flags = (spanContext.traceFlags & TraceFlags.SAMPLED).toString(16).padStart(2, '0');
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/** The ServerTiming of the request being handled, wherever its handler's code runs. */
const currentTiming = new AsyncLocalStorage<ServerTiming>();

/** The Server-Timing of the response being prepared, if the request went through `serverTiming()`. */
export function currentServerTiming(): ServerTiming | undefined {
  return currentTiming.getStore();
}

/**
 * Adds a part of the current request's own work to its Server-Timing (see
 * `ServerTiming.recordPart`): business timing worth showing apart, such as each
 * roll of a batch, so that a page can draw the parts side by side.
 */
export function recordServerTimingPart(name: string, label: string, startedAt: number, durationMs: number): void {
  currentServerTiming()?.recordPart(name, label, startedAt, durationMs);
}

/**
 * Middleware that adds `Server-Timing` (this service's time, its waits and the
 * relayed upstream entries) and `traceresponse` to every response, just before
 * the headers are written. `service` names the entries; it is fixed per service,
 * not taken from OTEL_SERVICE_NAME, so that the UI can rely on it. The upstream
 * client finds the response's ServerTiming with `currentServerTiming()`.
 */
export function serverTiming(service: string): RequestHandler {
  return (_req, res, next) => {
    const timing = new ServerTiming(service);
    // The active span is the server span here, sampled or not.
    const traceResponse = traceResponseHeader(trace.getActiveSpan()?.spanContext());
    // Every way of sending a response (res.json, res.sendFile, a bare res.end)
    // ends in writeHead, explicitly or through Node's implicit header.
    const writeHead = res.writeHead as (...args: unknown[]) => typeof res;
    res.writeHead = function writeHeadWithTimings(this: typeof res, ...args: unknown[]) {
      if (!this.headersSent) {
        this.setHeader('Server-Timing', timing.headerValue());
        if (traceResponse !== undefined) this.setHeader('traceresponse', traceResponse);
      }
      return writeHead.apply(this, args);
    } as typeof res.writeHead;
    currentTiming.run(timing, next);
  };
}
