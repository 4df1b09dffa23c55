import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { RequestHandler } from 'express';
import { routeTemplate } from './route-template';

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
