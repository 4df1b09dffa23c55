import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntaxErrors } from '../../test/support/dashboards';
import { FAULT_NAMES } from '../src/faults';

/**
 * The README's fault lab runbook, checked offline: a section per fault, and every
 * TraceQL and LogQL query in it parses with Grafana's own parsers (Tempo and Loki
 * do not run here; the spans and log lines the queries look for are asserted on
 * the real services in test/e2e/fault-lab.test.ts).
 */

const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
const start = readme.indexOf('## Fault lab');
const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
const queries = [...section.matchAll(/`(\{[^`]+)`/g)].map((m) => m[1] as string);

describe("the README's fault lab runbook", () => {
  it('has a section for every fault', () => {
    for (const fault of FAULT_NAMES) expect(section, fault).toContain(`**${fault}.**`);
  });

  it.each(queries)('%s parses', (query) => {
    // A Loki stream selector names labels with `=`/`=~` inside braces and no `.` scope.
    const language = /^\{\s*service/.test(query) ? 'logql' : 'traceql';
    expect(syntaxErrors(language, query)).toEqual([]);
  });

  it('queries something in every entry', () => {
    expect(queries.length).toBeGreaterThanOrEqual(FAULT_NAMES.length);
  });
});
