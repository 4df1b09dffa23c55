import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type PageReport, watchPage } from '../support/browser';
import { type Chain, REPO_ROOT, startChain } from '../support/service-process';

/**
 * The README's picture of the page: the shipped dice (die-service's own file) and no
 * GRAFANA_URL, so it shows what `npm start` shows. `UPDATE_SCREENSHOT=1` writes it to
 * docs/screenshot.png:
 *   npm run build && UPDATE_SCREENSHOT=1 npx vitest run test/browser/screenshot.test.ts
 */
const WAIT_MS = 15_000;
/** extreme fails half the time: P(no failure in this many rolls) = 2^-30. */
const MAX_EXTREME_ROLLS = 30;

let chain: Chain;
let browser: Browser;
let page: Page;
let report: PageReport;

beforeAll(async () => {
  [chain, browser] = await Promise.all([startChain({ ROLL_DELAY_MAX_MS: '300' }), launchChromium()]);
  page = await (await browser.newContext({ viewport: { width: 900, height: 900 } })).newPage();
  page.setDefaultTimeout(WAIT_MS);
  report = await watchPage(page);
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), chain?.stop()]);
});

const historyRows = () => page.locator('#history-rows tr');

/** Picks a die and how many, presses Roll, and resolves with the answer's status once the page shows it. */
async function roll(die: string, times = 1): Promise<number> {
  const before = await historyRows().count();
  await page.getByRole('combobox', { name: 'Die' }).selectOption(die);
  await page.getByRole('spinbutton', { name: 'How many dice' }).fill(String(times));
  const path = times === 1 ? '/roll' : '/roll-async';
  const response = page.waitForResponse((candidate) => new URL(candidate.url()).pathname === path);
  await page.getByRole('button', { name: 'Roll', exact: true }).click();
  await expect.poll(() => historyRows().count(), { timeout: WAIT_MS, interval: 50 }).toBe(Math.min(before + 1, 10));
  return (await response).status();
}

describe('the README screenshot', () => {
  it('shows the shipped dice, a failure, a batch side by side, and no Grafana links without GRAFANA_URL', async () => {
    await page.goto(chain.frontend.url);
    await expect
      .poll(
        () => page.locator('#die option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value)),
        {
          timeout: WAIT_MS,
        },
      )
      .toEqual(['fair', 'risky', 'extreme']);
    await roll('fair');
    await roll('risky');
    let failed = false;
    for (let attempt = 0; attempt < MAX_EXTREME_ROLLS && !failed; attempt++) failed = (await roll('extreme')) === 500;
    expect(failed).toBe(true);
    expect(await roll('fair', 5)).toBe(200);
    await page.mouse.move(0, 0);
    expect(await page.getByRole('link', { name: /Grafana/ }).count()).toBe(0);
    expect(report.errors).toEqual([]);
    expect(await report.cspViolations()).toEqual([]);

    const screenshot = await page.screenshot({ fullPage: true });
    expect(screenshot.length).toBeGreaterThan(10_000);
    if (process.env.UPDATE_SCREENSHOT === '1')
      writeFileSync(path.join(REPO_ROOT, 'docs', 'screenshot.png'), screenshot);
  });
});
