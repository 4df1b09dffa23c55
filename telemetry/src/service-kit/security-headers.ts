import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The headers that matter for a JSON answer a browser might still load: no
 * sniffing it into something else, no rendering or framing it as a page, no
 * reading it from another site's page.
 */
const API_HEADERS = new Map([
  ['X-Content-Type-Options', 'nosniff'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
]);

/**
 * Security headers on every answer, errors included. A service with a page for
 * browsers (the frontend) sends helmet's full set, with a Content-Security-Policy
 * its page keeps to. A service that answers JSON to other services sends the three
 * above: the others tell a browser how to treat a page, and each would cost every
 * internal hop a header to write and its caller one to parse.
 */
export function securityHeaders({ servesPage }: { servesPage: boolean }): RequestHandler {
  if (!servesPage) {
    return (_req, res, next) => {
      res.setHeaders(API_HEADERS);
      next();
    };
  }
  return helmet({
    // The services speak plain HTTP (TLS, if any, ends in front of them): asking
    // browsers to upgrade to HTTPS would break the UI on http://localhost:8105.
    strictTransportSecurity: false,
    contentSecurityPolicy: {
      directives: { 'style-src': ["'self'"], 'upgrade-insecure-requests': null },
    },
  });
}
