/**
 * Links from a roll to its trace and its logs in Grafana Explore, using the
 * datasource uids the stack provisions (stack/grafana/datasources.yaml).
 *
 * The server builds them as templates, so the page only substitutes three
 * placeholders: the trace id (32 hex digits) and the time range around the roll
 * in epoch milliseconds. Each placeholder is made of characters that URL encoding
 * leaves alone, so it survives inside the encoded Explore state.
 */
export const LINK_PLACEHOLDERS = {
  traceId: '__TRACE_ID__',
  fromMs: '__FROM_MS__',
  toMs: '__TO_MS__',
} as const;

export const TEMPO_DATASOURCE_UID = 'tempo';
export const LOKI_DATASOURCE_UID = 'loki';

export interface GrafanaLinkTemplates {
  /** The trace, opened in Explore's trace view (Tempo). */
  trace: string;
  /** The log lines of every service that carry the trace id (Loki). */
  logs: string;
}

function exploreUrl(grafanaUrl: string, pane: Record<string, unknown>): string {
  const base = grafanaUrl.replace(/\/+$/, '');
  const panes = { roll: { ...pane, range: { from: LINK_PLACEHOLDERS.fromMs, to: LINK_PLACEHOLDERS.toMs } } };
  return `${base}/explore?schemaVersion=1&orgId=1&panes=${encodeURIComponent(JSON.stringify(panes))}`;
}

export function grafanaLinkTemplates(grafanaUrl: string): GrafanaLinkTemplates {
  const tempo = { type: 'tempo', uid: TEMPO_DATASOURCE_UID };
  const loki = { type: 'loki', uid: LOKI_DATASOURCE_UID };
  return {
    // A TraceQL query that is a trace id opens that trace.
    trace: exploreUrl(grafanaUrl, {
      datasource: TEMPO_DATASOURCE_UID,
      queries: [{ refId: 'A', datasource: tempo, queryType: 'traceql', query: LINK_PLACEHOLDERS.traceId }],
    }),
    // `service` is a stream label and `trace_id` structured metadata (both set by
    // Alloy), the same query as the Tempo datasource's trace-to-logs link.
    logs: exploreUrl(grafanaUrl, {
      datasource: LOKI_DATASOURCE_UID,
      queries: [
        {
          refId: 'A',
          datasource: loki,
          queryType: 'range',
          expr: `{service=~".+"} | trace_id="${LINK_PLACEHOLDERS.traceId}"`,
        },
      ],
    }),
  };
}
