import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseServerTiming } from '../../telemetry/src/service-kit/server-timing-header';
import { launchChromium, type PageReport, watchPage } from '../support/browser';
import { OtlpReceiver } from '../support/otlp-receiver';
import { type Chain, type ServiceProcess, startChain, startService } from '../support/service-process';

/**
 * The web UI in a real browser (Debian's Chromium, driven by playwright-core)
 * against the three services as real processes and an OTLP receiver standing
 * in for the collector.
 */

const GRAFANA_URL = 'http://grafana.test:3000';
/** `always_fails` fails every roll; `browser_d8` exists only in this test's file. */
const SPECIFICATIONS = {
  fair: { faces: [1, 2, 3, 4, 5, 6], error_rate: 0 },
  always_fails: { faces: [1, 2, 3], error_rate: 1 },
  browser_d8: { faces: [1, 2, 3, 4, 5, 6, 7, 8], error_rate: 0 },
};
const WAIT_MS = 15_000;

const receiver = new OtlpReceiver();
const restarted: ServiceProcess[] = [];
let specDir: string;
let chain: Chain;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let report: PageReport;

beforeAll(async () => {
  specDir = mkdtempSync(path.join(os.tmpdir(), 'dice-ui-'));
  const specFile = path.join(specDir, 'dice.json');
  writeFileSync(specFile, JSON.stringify(SPECIFICATIONS));
  const [endpoint, launched] = await Promise.all([receiver.start(), launchChromium()]);
  browser = launched;
  chain = await startChain(
    { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ROLL_DELAY_MAX_MS: '50' },
    { 'die-service': { DIE_SPECS_FILE: specFile }, frontend: { GRAFANA_URL } },
  );
});

afterAll(async () => {
  await Promise.allSettled([
    browser?.close(),
    chain?.stop(),
    ...restarted.map((service) => service.stop()),
    receiver.stop(),
  ]);
  if (specDir !== undefined) rmSync(specDir, { recursive: true, force: true });
});

async function openPage(options: { viewport?: { width: number; height: number } } = {}): Promise<Response | null> {
  await context?.close();
  context = await browser.newContext({ viewport: options.viewport ?? { width: 960, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  report = await watchPage(page);
  return page.goto(chain.frontend.url);
}

afterEach(async () => {
  if (page === undefined) return;
  expect(report.errors, 'console errors').toEqual([]);
  expect(await report.cspViolations(), 'CSP violations').toEqual([]);
});

/** Waits, within WAIT_MS, until `read` gives the expected value. */
const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: WAIT_MS, interval: 50 });
const dieSelect = () => page.getByRole('combobox', { name: 'Die' });
const rollButton = () => page.getByRole('button', { name: 'Roll', exact: true });
const historyRows = () => page.locator('#history-rows tr');
const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

async function diceOffered(): Promise<{ value: string; label: string }[]> {
  return page
    .locator('#die option')
    .evaluateAll((options) =>
      options.map((option) => ({ value: (option as HTMLOptionElement).value, label: option.textContent ?? '' })),
    );
}

/** Picks a die, presses Roll, and waits until the page has shown the outcome. */
async function roll(die: string): Promise<Response> {
  const before = await historyRows().count();
  await dieSelect().selectOption(die);
  const response = page.waitForResponse((candidate) =>
    ['/roll', '/roll-async'].includes(new URL(candidate.url()).pathname),
  );
  await rollButton().click();
  await poll(() => historyRows().count()).toBe(Math.min(before + 1, 10));
  return response;
}

async function waterfallHops(): Promise<{ name: string; time: string }[]> {
  return page.locator('#waterfall li').evaluateAll((rows) =>
    rows.map((row) => ({
      name: row.querySelector('.hop-name')?.textContent ?? '',
      time: row.querySelector('.hop-time')?.firstChild?.textContent ?? '',
    })),
  );
}

function decodedPanes(href: string | null): string {
  return decodeURIComponent(new URL(href ?? '').searchParams.get('panes') ?? '');
}

describe('the page', () => {
  it('is served under a strict Content-Security-Policy and needs no inline script or style', async () => {
    const response = await openPage();
    const headers = response?.headers() ?? {};
    expect(response?.status()).toBe(200);
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'SAMEORIGIN',
      'cross-origin-opener-policy': 'same-origin',
    });
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('[style]').count()).toBe(0);
    await poll(() => dieSelect().isEnabled()).toBe(true);
  });

  it("lists exactly the dice of die-service's specification file, with display names", async () => {
    await openPage();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    expect(await diceOffered()).toEqual([
      { value: 'fair', label: 'Fair' },
      { value: 'always_fails', label: 'Always fails' },
      { value: 'browser_d8', label: 'Browser d8' },
    ]);
  });

  it('shows a roll: its value, latency, trace id (a trace the collector received), Grafana links and its journey', async () => {
    await openPage();
    const response = await roll('fair');

    expect(await text('#result-value')).toMatch(/^[1-6]$/);
    expect(await text('#result-die')).toBe('Fair');
    expect(await text('#result-latency')).toMatch(/^\d+(\.\d)? ms$/);
    expect(await text('#result-status')).toBe('HTTP 200');
    const traceId = await text('#result-trace');
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    // Each service exports its spans on its own schedule: wait until all three have.
    const services = await receiver.waitFor((spans) => {
      const inTrace = new Set(spans.filter((span) => span.traceId === traceId).map((span) => span.service));
      return inTrace.size === 3 ? inTrace : undefined;
    });
    expect(services).toEqual(new Set(['frontend', 'dice-roller', 'die-service']));

    // The same headers the waterfall is drawn from, as any client sees them.
    const headers = await response.allHeaders();
    expect(headers.traceresponse).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    for (const name of ['frontend', 'frontend.wait', 'dice-roller', 'dice-roller.wait', 'die-service']) {
      expect(headers['server-timing']).toMatch(new RegExp(`(^|, )${name.replace('.', '\\.')};dur=\\d`));
    }

    expect(await waterfallHops()).toEqual([
      { name: 'frontend', time: expect.stringMatching(/ ms$/) },
      { name: 'dice-roller', time: expect.stringMatching(/ ms$/) },
      { name: 'die-service', time: expect.stringMatching(/ ms$/) },
    ]);

    const traceLink = page.getByRole('link', { name: 'View the trace in Grafana' });
    const logsLink = page.getByRole('link', { name: 'View its logs in Grafana' });
    const traceHref = await traceLink.getAttribute('href');
    const logsHref = await logsLink.getAttribute('href');
    expect(traceHref).toMatch(new RegExp(`^${GRAFANA_URL}/explore\\?`));
    expect(decodedPanes(traceHref)).toContain(`"uid":"tempo"`);
    expect(decodedPanes(traceHref)).toContain(`"query":"${traceId}"`);
    expect(decodedPanes(logsHref)).toContain(`"uid":"loki"`);
    expect(decodedPanes(logsHref)).toContain(`trace_id=\\"${traceId}\\"`);
    expect(decodedPanes(logsHref)).not.toMatch(/__[A-Z_]+__/);
    expect(await traceLink.getAttribute('rel')).toContain('noopener');

    const row = historyRows().first();
    expect(await row.textContent()).toContain(traceId);
    expect(await row.textContent()).toContain('Fair');
    expect(await row.textContent()).toContain('200');
  });

  it('can be used with the keyboard alone', async () => {
    await openPage();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('die');
    await page.keyboard.press('End'); // the last die: browser_d8
    expect(await dieSelect().inputValue()).toBe('browser_d8');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('times');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('roll');
    await page.keyboard.press('Enter');
    await poll(() => historyRows().count()).toBe(1);
    expect(await text('#result-die')).toBe('Browser d8');
    expect(await text('#result-value')).toMatch(/^[1-8]$/);
    // Focus stays where the user left it, ready for the next roll.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('roll');
  });

  it('copies the trace id', async () => {
    await openPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: chain.frontend.url });
    await roll('fair');
    await page.getByRole('button', { name: 'Copy' }).click();
    await poll(() => text('#copy-status')).toBe('Trace ID copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await text('#result-trace'));
  });

  it('shows a failed roll with its detail and trace id, keeps it in the history, and keeps working', async () => {
    await openPage();
    await roll('always_fails');
    expect(await page.locator('#result').getAttribute('class')).toContain('failed');
    expect(await text('#result-value')).toBe('Die failed');
    expect(await text('#result-detail')).toBe("Die 'always_fails' failed!");
    expect(await text('#result-status')).toBe('HTTP 500');
    const failedTrace = await text('#result-trace');
    expect(failedTrace).toMatch(/^[0-9a-f]{32}$/);
    // The failure still went through all three services.
    expect((await waterfallHops()).map((hop) => hop.name)).toEqual(['frontend', 'dice-roller', 'die-service']);
    expect(report.failedResponses).toEqual(['500 /roll']);

    await roll('fair');
    expect(await text('#result-value')).toMatch(/^[1-6]$/);
    expect(await page.locator('#result').getAttribute('class')).not.toContain('failed');
    const rows = await historyRows().allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toContain('Die failed');
    expect(rows[1]).toContain('500');
    expect(rows[1]).toContain(failedTrace);
  });

  it('rolls a batch: every die and their total, and the dice side by side in the journey', async () => {
    await openPage();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    const times = page.getByRole('spinbutton', { name: 'How many dice' });
    expect(await times.inputValue()).toBe('1');
    await times.fill('10');
    await dieSelect().selectOption('fair');
    const response = page.waitForResponse((candidate) => new URL(candidate.url()).pathname === '/roll-async');
    await rollButton().click();
    expect((await response).status()).toBe(200);
    await poll(() => historyRows().count()).toBe(1);

    const dice = (await page.locator('#result-rolls li').allTextContents()).map(Number);
    expect(dice).toHaveLength(10);
    for (const value of dice) expect([1, 2, 3, 4, 5, 6]).toContain(value);
    expect(await text('#result-value')).toBe(String(dice.reduce((sum, value) => sum + value, 0)));
    expect(await text('#result-die')).toBe('Fair × 10');
    expect(await text('#result-trace')).toMatch(/^[0-9a-f]{32}$/);
    expect(await text('#result-announcement')).toContain(dice.join(', '));

    // The journey: the three services, then one lane per die, all after die-service's answer.
    const hops = await waterfallHops();
    expect(hops.map((hop) => hop.name)).toEqual([
      'frontend',
      'dice-roller',
      'die-service',
      ...Array.from({ length: 10 }, (_, index) => `die ${index + 1}`),
    ]);
    const lanes = await page.locator('#waterfall li.hop-roll .hop-bar').evaluateAll((bars) =>
      bars.map((bar) => {
        const { left, right } = bar.getBoundingClientRect();
        return { left, right };
      }),
    );
    expect(lanes).toHaveLength(10);
    // Side by side in time: every die starts before the first one ends (the rolls start together).
    const firstEnd = Math.min(...lanes.map((lane) => lane.right));
    for (const lane of lanes) expect(lane.left).toBeLessThan(firstEnd);
    // Not one bar: the lanes end at different times (ten random delays).
    expect(new Set(lanes.map((lane) => Math.round(lane.right))).size).toBeGreaterThan(1);
    expect(await page.locator('#legend-rolls').isVisible()).toBe(true);
    expect(await page.locator('#legend-failed-rolls').isVisible()).toBe(false);

    // Back to one die: a plain roll, and the lanes are gone.
    await times.fill('1');
    await roll('fair');
    expect(await page.locator('#result-rolls').isVisible()).toBe(false);
    expect((await waterfallHops()).map((hop) => hop.name)).toEqual(['frontend', 'dice-roller', 'die-service']);
    expect(await page.locator('#legend-rolls').isVisible()).toBe(false);
  });

  it('shows a failed batch with the dice that failed', async () => {
    await openPage();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    await page.getByRole('spinbutton', { name: 'How many dice' }).fill('3');
    await roll('always_fails');
    expect(await text('#result-value')).toBe('Die failed');
    expect(await text('#result-detail')).toBe("3 of 3 rolls of die 'always_fails' failed");
    expect(await text('#result-status')).toBe('HTTP 500');
    expect(await page.locator('#waterfall li.hop-roll-failed').count()).toBe(3);
    expect(await page.locator('#legend-failed-rolls').isVisible()).toBe(true);
    expect(report.failedResponses).toEqual(['500 /roll-async']);
  });

  it('will not ask for more than 20 dice', async () => {
    await openPage();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    const times = page.getByRole('spinbutton', { name: 'How many dice' });
    await times.fill('21');
    await rollButton().click();
    // The browser's own form validation stops it before any request.
    expect(await times.evaluate((input) => (input as HTMLInputElement).validity.valid)).toBe(false);
    await times.fill('20');
    await roll('fair');
    // Only the second press made a roll.
    expect(await historyRows().allTextContents()).toEqual([expect.stringContaining('Fair × 20')]);
    expect(await page.locator('#result-rolls li').count()).toBe(20);
  });

  it('reads Server-Timing headers as the services parse them', async () => {
    await openPage();
    const headers = [
      'frontend;dur=58.3;desc="frontend total", frontend.wait;dur=56.9;desc="frontend waiting on dice-roller"',
      'a;desc="say \\"hi\\", then; go";dur=1, b ; DUR = 2 ;Desc=token',
      'a;dur=fast, b;dur=1;dur=2;desc=x;desc=y;start=5, c',
      '',
    ];
    for (const header of headers) {
      // The page's script is a classic script: its top-level functions are globals.
      const inPage = await page.evaluate(
        (value) => [
          ...(globalThis as unknown as { parseServerTiming: (h: string) => Map<string, object> }).parseServerTiming(
            value,
          ),
        ],
        header,
      );
      const onServer = parseServerTiming(header).map(({ name, ...timing }) => [name, timing]);
      expect(inPage, header).toEqual(onServer);
    }
  });

  it('fits a phone-width screen', async () => {
    await openPage({ viewport: { width: 360, height: 740 } });
    await roll('fair');
    await roll('always_fails');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await rollButton().isVisible()).toBe(true);
  });
});

describe('when die-service goes away, and comes back with other dice', () => {
  /** The second file drops `browser_d8` and adds `late_d12`. */
  const NEW_SPECIFICATIONS = {
    fair: SPECIFICATIONS.fair,
    always_fails: SPECIFICATIONS.always_fails,
    late_d12: { faces: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], error_rate: 0 },
  };

  async function restartDieService(): Promise<void> {
    const specFile = path.join(specDir, 'new-dice.json');
    writeFileSync(specFile, JSON.stringify(NEW_SPECIFICATIONS));
    restarted.push(
      await startService('die-service', { port: chain.dieService.port, env: { DIE_SPECS_FILE: specFile } }),
    );
  }

  it('shows the dependency failure with its detail and trace id, then an unknown die, and refreshes the dice', async () => {
    await openPage();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    await chain.dieService.stop();

    await roll('fair');
    expect(await text('#result-value')).toBe('Upstream unavailable');
    expect(await text('#result-detail')).toBe('die-service is unavailable');
    expect(await text('#result-status')).toBe('HTTP 503');
    expect(await text('#result-trace')).toMatch(/^[0-9a-f]{32}$/);
    // The journey ends where the chain broke.
    expect((await waterfallHops()).map((hop) => hop.name)).toEqual(['frontend', 'dice-roller']);

    await restartDieService();
    await roll('browser_d8'); // still offered by this page, gone from die-service
    expect(await text('#result-value')).toBe('Unknown die');
    expect(await text('#result-detail')).toBe("Die 'browser_d8' not found");
    expect(await text('#result-status')).toBe('HTTP 404');
    expect(await text('#result-trace')).toMatch(/^[0-9a-f]{32}$/);
    await poll(async () => (await diceOffered()).map((die) => die.value)).toEqual(['fair', 'always_fails', 'late_d12']);
    expect(report.failedResponses).toEqual(['503 /roll', '404 /roll']);

    await roll('late_d12');
    expect(await text('#result-value')).toMatch(/^([1-9]|1[0-2])$/);
  });

  it('loads with die-service down, says the dice are unavailable, and fills the dropdown once it starts', async () => {
    await restarted.at(-1)?.stop();
    await openPage();
    await poll(() => text('#dice-status')).toMatch(/^Could not load the dice/);
    expect(await text('#dice-status')).toContain('die-service is unavailable');
    expect(await dieSelect().isDisabled()).toBe(true);
    expect(await rollButton().isDisabled()).toBe(true);

    await restartDieService();
    await poll(() => dieSelect().isEnabled()).toBe(true);
    expect(await diceOffered()).toEqual([
      { value: 'fair', label: 'Fair' },
      { value: 'always_fails', label: 'Always fails' },
      { value: 'late_d12', label: 'Late d12' },
    ]);
    expect(await text('#dice-status')).toBe('');
    expect(report.failedResponses.length).toBeGreaterThan(0);
    expect(report.failedResponses.every((failure) => failure === '503 /dice')).toBe(true);

    await roll('fair');
    expect(await text('#result-value')).toMatch(/^[1-6]$/);
  });
});
