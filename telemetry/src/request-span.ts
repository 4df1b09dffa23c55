import { context, type Span, TraceFlags, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { RequestHandler } from 'express';
import { routeTemplate } from './route-template';

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

/** The trace id of the current request when it is sampled (stored by the backend). */
export function sampledTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return undefined;
  return (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? spanContext.traceId : undefined;
}

/**
 * Names each server span after the route that served it (`GET /roll`) and sets
 * `http.route`. The HTTP instrumentation does both when the response closes, from
 * the route recorded in the request's RPC metadata. The Express instrumentation
 * would record it too, but only by wrapping every router layer and adding a span
 * per handler, which cost a third of the tracing overhead in bench/ profiles and
 * told a reader nothing the server span does not. The listener is prepended so it
 * runs before the instrumentation's own, registered when the request arrived.
 */
export function nameServerSpanByRoute(): RequestHandler {
  return (req, res, next) => {
    const metadata = getRPCMetadata(context.active());
    if (metadata?.type === RPCType.HTTP) {
      res.prependOnceListener('close', () => {
        const route = routeTemplate(req, res);
        if (route !== undefined) metadata.route = route;
      });
    }
    next();
  };
}
