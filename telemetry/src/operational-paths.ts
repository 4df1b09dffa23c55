/**
 * Endpoints that exist for machines (scrapers, probes), not for users. They are
 * neither traced nor counted in the HTTP RED metrics, so a Prometheus scrape every
 * 15 s does not drown the traces and request rates people came to look at.
 */
export const OPERATIONAL_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics', '/metrics/otel']);

export function isOperationalPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  const queryStart = url.indexOf('?');
  return OPERATIONAL_PATHS.has(queryStart === -1 ? url : url.slice(0, queryStart));
}
