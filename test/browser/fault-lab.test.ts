import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allFaultsOff, faultFlag, writeFlagDocument } from '../../fault-lab/src/flag-file';
import { launchChromium, watchPage } from '../support/browser';
import { type ServiceProcess, startService } from '../support/service-process';

/** The page's fault lab notice in a real browser: hidden with every fault off, then naming the faults switched on. */

const directory = mkdtempSync(path.join(os.tmpdir(), 'fault-lab-page-'));
const flagFile = path.join(directory, 'faults.flagd.json');
let frontend: ServiceProcess;
let browser: Browser;

beforeAll(async () => {
  writeFlagDocument(flagFile, allFaultsOff());
  [frontend, browser] = await Promise.all([
    // The notice needs only the frontend: it reads the flag file itself.
    startService('frontend', { env: { FAULT_FLAGS_FILE: flagFile, FAULT_FLAGS_POLL_MS: '100' } }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await Promise.allSettled([browser?.close(), frontend?.stop()]);
  rmSync(directory, { recursive: true, force: true });
});

describe("the page's fault lab notice", () => {
  it('is hidden with every fault off, and names the faults once one is switched on', async () => {
    const page = await browser.newPage();
    const report = await watchPage(page);
    const firstCheck = page.waitForResponse((response) => new URL(response.url()).pathname === '/faults');
    await page.goto(frontend.url);
    await firstCheck;
    const notice = page.locator('#faults');
    expect(await notice.isHidden()).toBe(true);

    const document = allFaultsOff();
    document.flags['die-service-slow'] = faultFlag('die-service-slow', 800);
    writeFlagDocument(flagFile, document);
    // The page checks every 5 s.
    await expect
      .poll(() => notice.textContent(), { timeout: 15_000, interval: 100 })
      .toBe('Fault lab: die-service-slow (800) switched on. npm run fault -- reset switches every fault off.');
    expect(await notice.isVisible()).toBe(true);
    expect(await page.getByRole('status').filter({ hasText: 'Fault lab' }).count()).toBe(1);
    // The frontend could not reach dice-roller or die-service here: those failures are expected.
    expect(report.errors).toEqual([]);
    expect(await report.cspViolations()).toEqual([]);
  });
});
