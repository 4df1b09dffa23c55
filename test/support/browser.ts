import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless, quiet, and with nothing reaching out to the network on its own. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** What a page reported that a test may want to assert on. */
export interface PageReport {
  /** Console errors and uncaught exceptions, except failed HTTP responses. */
  errors: string[];
  /** Chromium's "Failed to load resource" console errors: `<status> <path>`. */
  failedResponses: string[];
  /** Content-Security-Policy violations: `<directive> <blocked URI>`. */
  cspViolations: () => Promise<string[]>;
}

const FAILED_RESOURCE = /^Failed to load resource: the server responded with a status of (\d+)/;

/**
 * Records everything a page complains about. Chromium logs every HTTP error a
 * fetch receives as a console error; those are kept apart, so that a test can
 * tell an expected 500 from a real problem.
 */
export async function watchPage(page: Page): Promise<PageReport> {
  const report: Omit<PageReport, 'cspViolations'> = { errors: [], failedResponses: [] };
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const failed = FAILED_RESOURCE.exec(message.text());
    if (failed !== null) {
      const url = message.location().url;
      report.failedResponses.push(`${failed[1]} ${url === '' ? '?' : new URL(url).pathname}`);
    } else {
      report.errors.push(message.text());
    }
  });
  page.on('pageerror', (error) => report.errors.push(`uncaught: ${error.message}`));
  // Injected by the browser itself, not by the page, so the page's CSP does not apply to it.
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => {
      violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return {
    ...report,
    cspViolations: () => page.evaluate(() => [...(window as unknown as { cspViolations: string[] }).cspViolations]),
  };
}
