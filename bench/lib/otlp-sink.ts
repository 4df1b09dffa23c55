/**
 * A live OTLP/HTTP trace endpoint for the benchmark: it accepts `POST /v1/traces`
 * as a collector would (http/protobuf, the SDK's default, or http/json; gzip or
 * not), answers 200 and counts the spans it received, which proves tracing was
 * live during a run. It walks the protobuf wire format just far enough to count
 * spans, so the sink costs little CPU next to the services it measures.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** Reads a protobuf varint at `pos`; returns the value and the position after it. */
function varint(buffer: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buffer[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, pos];
    shift += 7;
  }
}

/** The [start, end) ranges of the length-delimited fields numbered `field` in buffer[start, end). */
function lengthDelimited(buffer: Buffer, start: number, end: number, field: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let pos = start;
  while (pos < end) {
    const [key, afterKey] = varint(buffer, pos);
    pos = afterKey;
    const wireType = key & 7;
    if (wireType === 0) [, pos] = varint(buffer, pos);
    else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else if (wireType === 2) {
      const [length, afterLength] = varint(buffer, pos);
      if (key >>> 3 === field) ranges.push([afterLength, afterLength + length]);
      pos = afterLength + length;
    } else throw new Error(`unsupported wire type ${wireType}`);
  }
  return ranges;
}

/** ExportTraceServiceRequest: resource_spans = 1 -> scope_spans = 2 -> spans = 2. */
export function countProtobufSpans(body: Buffer): number {
  let spans = 0;
  for (const [rsStart, rsEnd] of lengthDelimited(body, 0, body.length, 1)) {
    for (const [ssStart, ssEnd] of lengthDelimited(body, rsStart, rsEnd, 2)) {
      spans += lengthDelimited(body, ssStart, ssEnd, 2).length;
    }
  }
  return spans;
}

interface JsonExport {
  resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
}

function countJsonSpans(body: Buffer): number {
  const request = JSON.parse(body.toString('utf8')) as JsonExport;
  let spans = 0;
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) spans += scopeSpans.spans?.length ?? 0;
  }
  return spans;
}

export class OtlpSink {
  spans = 0;
  exports = 0;
  bytes = 0;
  rejected = 0;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const json = request.headers['content-type']?.includes('json') === true;
        try {
          let body = Buffer.concat(chunks);
          this.bytes += body.length;
          if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          this.spans += json ? countJsonSpans(body) : countProtobufSpans(body);
          this.exports += 1;
          // An empty ExportTraceServiceResponse: every span accepted.
          response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
          response.end(json ? '{}' : '');
        } catch (error) {
          this.rejected += 1;
          response.writeHead(400).end(String(error));
        }
      });
    });
    this.server.keepAliveTimeout = 30_000;
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
