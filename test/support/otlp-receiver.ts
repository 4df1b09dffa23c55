import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { countJsonSpans, countProtobufSpans } from './otlp-span-count';
import { WakeUp } from './wake-up';

/** A span as the test sees it, whichever OTLP encoding carried it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  service: string;
  scope: string;
  attributes: Record<string, unknown>;
  /** Span events (`exception`, `feature_flag.evaluation`, ...), in the order they were added. */
  events: { name: string; attributes: Record<string, unknown> }[];
  status: { code: 'unset' | 'ok' | 'error'; message: string };
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  resource: Record<string, unknown>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUS_CODES = ['unset', 'ok', 'error'] as const;

let exportRequestType: protobuf.Type | undefined;

/** The protobuf message of an export, read from otlp-trace.proto when first needed. */
function exportRequest(): protobuf.Type {
  exportRequestType ??= protobuf
    .parse(readFileSync(path.join(__dirname, 'otlp-trace.proto'), 'utf8'), { keepCase: false })
    .root.lookupType('otlp.ExportTraceServiceRequest');
  return exportRequestType;
}

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpKeyValue[];
  events?: { name?: string; attributes?: OtlpKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: OtlpSpan[] }[];
  }[];
}

function anyValue(value: OtlpAnyValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue !== undefined) return attributes(value.kvlistValue.values);
  return value.bytesValue;
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, anyValue(value)]));
}

/** Protobuf bytes arrive base64-encoded from toObject, hex in OTLP/JSON; ids are hex either way. */
function hexId(value: string | undefined, fromProtobuf: boolean): string | undefined {
  if (value === undefined || value === '') return undefined;
  return fromProtobuf ? Buffer.from(value, 'base64').toString('hex') : value.toLowerCase();
}

function flatten(request: OtlpRequest, fromProtobuf: boolean): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: hexId(span.traceId, fromProtobuf) ?? '',
          spanId: hexId(span.spanId, fromProtobuf) ?? '',
          parentSpanId: hexId(span.parentSpanId, fromProtobuf),
          name: span.name,
          kind: KINDS[span.kind ?? 0] ?? 'unspecified',
          service: String(resource['service.name']),
          scope: scopeSpans.scope?.name ?? '',
          attributes: attributes(span.attributes),
          events: (span.events ?? []).map((event) => ({
            name: event.name ?? '',
            attributes: attributes(event.attributes),
          })),
          status: { code: STATUS_CODES[span.status?.code ?? 0] ?? 'unset', message: span.status?.message ?? '' },
          startTimeUnixNano: BigInt(span.startTimeUnixNano),
          endTimeUnixNano: BigInt(span.endTimeUnixNano),
          resource,
        });
      }
    }
  }
  return spans;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function decode(json: boolean, body: Buffer): ReceivedSpan[] {
  if (json) return flatten(JSON.parse(body.toString('utf8')) as OtlpRequest, false);
  const type = exportRequest();
  const object = type.toObject(type.decode(body), { longs: String, bytes: String, defaults: false });
  return flatten(object as OtlpRequest, true);
}

export interface OtlpReceiverOptions {
  /**
   * Decode and keep every span (the default, for tests), or only count them (the
   * benchmark: little CPU next to the services measured, and no memory growth).
   */
  keepSpans?: boolean;
}

/**
 * An OTLP/HTTP trace receiver standing in for the collector, for the tests and
 * the benchmark: accepts `POST /v1/traces` in http/protobuf (the SDK's default)
 * or http/json, gzipped or not, and lets a test wait for the spans it expects
 * instead of sleeping.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** What arrived, whether the spans were kept or only counted. */
  readonly received = { spans: 0, exports: 0, bytes: 0, rejected: 0 };
  private readonly arrivals = new WakeUp();
  private server: Server | undefined;

  constructor(private readonly options: OtlpReceiverOptions = {}) {}

  async start(): Promise<string> {
    this.server = createServer(async (request, response) => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const contentType = request.headers['content-type'];
      const json = contentType?.includes('application/json') === true;
      try {
        let body = await readBody(request);
        this.received.bytes += body.length;
        if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (this.options.keepSpans === false) {
          this.received.spans += json ? countJsonSpans(body) : countProtobufSpans(body);
        } else {
          const spans = decode(json, body);
          this.received.spans += spans.length;
          this.spans.push(...spans);
        }
        this.received.exports += 1;
        this.arrivals.notify();
        // An empty ExportTraceServiceResponse, in the encoding of the request.
        if (json) {
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        }
      } catch (error) {
        this.received.rejected += 1;
        response.writeHead(400).end(String(error));
      }
    });
    // Exporters keep their connection between batches; so does a collector.
    this.server.keepAliveTimeout = 30_000;
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resolves with what `select` finds in the spans received so far, once it finds something; rejects after `timeoutMs`. */
  waitFor<T>(select: (spans: ReceivedSpan[]) => T | undefined, timeoutMs = 20_000): Promise<T> {
    return this.arrivals.until(
      () => select(this.spans),
      timeoutMs,
      () =>
        new Error(`OTLP receiver: expected spans did not arrive within ${timeoutMs} ms (have ${this.spans.length})`),
    );
  }

  /** All spans of one trace, once at least `count` of them have arrived. */
  waitForTrace(traceId: string, count: number, timeoutMs?: number): Promise<ReceivedSpan[]> {
    return this.waitFor((spans) => {
      const trace = spans.filter((span) => span.traceId === traceId);
      return trace.length >= count ? trace : undefined;
    }, timeoutMs);
  }

  async stop(): Promise<void> {
    if (this.server === undefined) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
