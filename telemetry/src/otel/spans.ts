import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, type Span, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

/**
 * The server span of the request being handled, for business attributes
 * (`die.type`, `roll.value`, ...), so one TraceQL query such as
 * `{ kind = server && span.die.type = "risky" }` finds them in every service.
 * The HTTP instrumentation records the server span in the request's RPC metadata;
 * outside an instrumented request this falls back to the active span, if any.
 *
 * Undefined when nothing would be recorded: no span, a request that is not
 * sampled, or a span that has ended because the client went away while the
 * handler awaited an upstream (the SDK warns about every change to an ended span).
 */
export function requestSpan(): Span | undefined {
  const metadata = getRPCMetadata(context.active());
  const span = metadata?.type === RPCType.HTTP && metadata.span !== undefined ? metadata.span : trace.getActiveSpan();
  return span?.isRecording() === true ? span : undefined;
}

/** The trace id of the current request, if there is a trace at all. */
export function currentTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext !== undefined && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** `body` with the current trace id as `trace_id`, so whoever reads an answer can find its trace. */
export function withTraceId<T extends object>(body: T): T & { trace_id?: string } {
  const traceId = currentTraceId();
  return traceId === undefined ? body : { ...body, trace_id: traceId };
}

/** The trace id of the current request when it is sampled (stored by the backend). */
export function sampledTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? spanContext.traceId : undefined;
}

/** Why a request failed, as its server span should say it. */
export interface Failure {
  /** The span's status message: what went wrong, for a person reading the trace. */
  message: string;
  /** `error.type`: a low-cardinality name for the kind of failure (a problem type, an exception type). */
  type: string;
}

const failures = new WeakMap<ServerResponse, Failure>();

/**
 * Marks the request answered by `response` as failed: status ERROR with the
 * reason as its message, `error.type`, and the exception (stack included) when
 * there is one. The HTTP instrumentation sets the status of every 5xx server span
 * again when the response closes, with no message and `error.type` = the status
 * code; `applyRecordedFailure` runs after it and puts this reason back.
 */
export function recordFailure(response: ServerResponse, failure: Failure, exception?: Error): void {
  const span = requestSpan();
  if (span === undefined) return;
  if (exception !== undefined) span.recordException(exception);
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message }).setAttribute(ATTR_ERROR_TYPE, failure.type);
  failures.set(response, failure);
}

/** The HTTP instrumentation's `applyCustomAttributesOnSpan` hook: see `recordFailure`. */
export function applyRecordedFailure(span: Span, _request: unknown, response: ServerResponse | IncomingMessage): void {
  const failure = failures.get(response as ServerResponse);
  if (failure === undefined) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message }).setAttribute(ATTR_ERROR_TYPE, failure.type);
}
