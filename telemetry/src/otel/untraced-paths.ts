/**
 * Endpoints that exist for machines (scrapers, probes), not for users. They are
 * not traced (and the HTTP-service kit mounts them before its RED metrics), so a
 * Prometheus scrape every 15 s does not drown the traces people came to look at.
 */
const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/health', '/ready', '/metrics', '/metrics/otel']);

export function isUntracedPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  const queryStart = url.indexOf('?');
  return UNTRACED_PATHS.has(queryStart === -1 ? url : url.slice(0, queryStart));
}
