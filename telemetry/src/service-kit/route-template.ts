import type { Request, Response } from 'express';

/**
 * The route template that served a request (`/dice`), never the raw URL: a URL
 * would let clients create metric series and span names. Undefined when no route
 * matched. A handler that serves a whole tree (static files) names it in
 * `res.locals.handler`.
 */
export function routeTemplate(req: Request, res: Response): string | undefined {
  if (typeof res.locals.handler === 'string') return res.locals.handler;
  const route = req.route as { path?: unknown } | undefined;
  return typeof route?.path === 'string' ? `${req.baseUrl}${route.path}` : undefined;
}
