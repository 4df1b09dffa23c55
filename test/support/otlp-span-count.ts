/**
 * Counting the spans of an OTLP export without decoding it: the protobuf wire
 * format is walked just far enough to count spans, so the benchmark's receiver
 * costs little CPU next to the services it measures.
 */

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

export function countJsonSpans(body: Buffer): number {
  const request = JSON.parse(body.toString('utf8')) as JsonExport;
  let spans = 0;
  for (const resourceSpans of request.resourceSpans ?? []) {
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) spans += scopeSpans.spans?.length ?? 0;
  }
  return spans;
}
