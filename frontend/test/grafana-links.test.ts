import { describe, expect, it } from 'vitest';
import { grafanaLinkTemplates, LINK_PLACEHOLDERS } from '../src/grafana-links';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

/** What the page does with a template. */
function fill(template: string): string {
  return template
    .replaceAll(LINK_PLACEHOLDERS.traceId, TRACE_ID)
    .replaceAll(LINK_PLACEHOLDERS.fromMs, '1700000000000')
    .replaceAll(LINK_PLACEHOLDERS.toMs, '1700000120000');
}

/** The Explore state a filled link opens. */
function explorePane(link: string): { url: URL; pane: Record<string, unknown> } {
  const url = new URL(link);
  const panes = JSON.parse(url.searchParams.get('panes') ?? '{}') as Record<string, Record<string, unknown>>;
  return { url, pane: Object.values(panes)[0] ?? {} };
}

describe('Grafana link templates', () => {
  const templates = grafanaLinkTemplates('http://localhost:3000');

  it('open the trace in Explore with the Tempo datasource the stack provisions', () => {
    const { url, pane } = explorePane(fill(templates.trace));
    expect(url.origin + url.pathname).toBe('http://localhost:3000/explore');
    expect(url.searchParams.get('schemaVersion')).toBe('1');
    expect(pane).toEqual({
      datasource: 'tempo',
      queries: [{ refId: 'A', datasource: { type: 'tempo', uid: 'tempo' }, queryType: 'traceql', query: TRACE_ID }],
      range: { from: '1700000000000', to: '1700000120000' },
    });
  });

  it("open the trace's log lines of every service in Explore with the Loki datasource", () => {
    const { pane } = explorePane(fill(templates.logs));
    expect(pane).toMatchObject({
      datasource: 'loki',
      queries: [
        {
          datasource: { type: 'loki', uid: 'loki' },
          expr: `{service=~".+"} | trace_id="${TRACE_ID}"`,
        },
      ],
      range: { from: '1700000000000', to: '1700000120000' },
    });
  });

  it('carry each placeholder through URL encoding unchanged', () => {
    for (const template of [templates.trace, templates.logs]) {
      for (const placeholder of Object.values(LINK_PLACEHOLDERS)) expect(template).toContain(placeholder);
    }
  });

  it('keep a path prefix and drop a trailing slash of GRAFANA_URL', () => {
    const { url } = explorePane(fill(grafanaLinkTemplates('https://example.com/grafana/').trace));
    expect(url.origin + url.pathname).toBe('https://example.com/grafana/explore');
  });
});
