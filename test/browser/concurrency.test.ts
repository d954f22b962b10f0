// The drill-down's workers control in headless Chromium, against a runtime on the shared Redis
// (unique keys): the page changes the concurrency (the token goes in the header), the worker list
// follows, a bad count is refused with the runtime's message, and a read-only dashboard has no control.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, RedisStreamStorage, Router, type Runtime, startDashboard } from '../../src/index.js';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

checkLeaksAtFileEnd();

const TOKEN = 'concurrency-browser-token-3f8';

describe.skipIf(!hasChromium && !process.env.CI)(
  hasChromium
    ? 'dashboard workers control (headless chromium, real Redis)'
    : 'dashboard workers control — SKIPPED: /usr/bin/chromium is absent (apt-get install -y chromium)',
  () => {
    const prefix = uniquePrefix();
    const stream = `${prefix}:jobs`;
    let runtime: Runtime<unknown>;
    let dashboard: Awaited<ReturnType<typeof startDashboard>>;
    let readOnly: Awaited<ReturnType<typeof startDashboard>>;
    let browser: Browser;
    let page: Page;
    const control = '[data-detail-for="jobs"] form.concurrency';
    const workerIds = () => runtime.snapshot().consumers[0]?.workers.map((w) => w.id);

    beforeAll(async () => {
      runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router: new Router(),
        consumers: [{ id: 'jobs', stream, group: 'g', concurrency: 2, blockMs: 200 }],
      });
      await runtime.start();
      dashboard = await startDashboard(runtime, { port: 0, token: TOKEN, sampleMs: 50 });
      readOnly = await startDashboard(runtime, { port: 0, readOnly: true, sampleMs: 50 });
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1440, height: 1300 } });
    });

    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await readOnly?.close();
      await runtime?.stop({ timeoutMs: 2000 });
      await cleanupKeys(prefix);
    });

    it('sets 6 workers from the drill-down; the worker list follows', async () => {
      await page.goto(`${dashboard.url}?token=${TOKEN}#consumer=jobs`);
      await page.waitForSelector(`${control}[data-concurrency="2"]`, { timeout: 10_000 });
      expect(await page.inputValue(`${control} input[name="concurrency"]`)).toBe('2');
      expect(await page.$$eval('[data-detail-for="jobs"] .worker-list li', (items) => items.length)).toBe(2);
      await page.fill(`${control} input[name="concurrency"]`, '6');
      await page.click(`${control} [data-action="set-concurrency"]`);
      await page.waitForSelector(`${control} .concurrency-message[data-kind="ok"]`, { timeout: 10_000 });
      expect(await page.textContent(`${control} .concurrency-message`)).toBe('6 workers');
      expect(workerIds()).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5']);
      await page.waitForFunction(
        () => document.querySelectorAll('[data-detail-for="jobs"] .worker-list li').length === 6,
        undefined,
        { timeout: 10_000 },
      );
      await page.waitForSelector(`${control}[data-concurrency="6"]`);
    });

    it('shows the refusal of a count over 1024 and changes nothing', async () => {
      // The input's own max would stop the form; a user can still type past it with validation off.
      await page.$eval(`${control} input[name="concurrency"]`, (input) => input.removeAttribute('max'));
      await page.fill(`${control} input[name="concurrency"]`, '2000');
      await page.click(`${control} [data-action="set-concurrency"]`);
      await page.waitForSelector(`${control} .concurrency-message[data-kind="error"]`, { timeout: 10_000 });
      expect(await page.textContent(`${control} .concurrency-message`)).toBe(
        'Expected `concurrency` to be an integer from 1 to 1024, got 2000',
      );
      expect(workerIds()).toHaveLength(6);
    });

    it('a page without the token cannot change it (401 from the endpoint)', async () => {
      const other = await browser.newPage();
      try {
        // The page itself needs the token too: call the endpoint from the dashboard's origin without it.
        await other.goto(`${dashboard.url}healthz`);
        const status = await other.evaluate(async () => {
          const response = await fetch('/api/consumers/jobs/concurrency', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ concurrency: 1 }),
          });
          return response.status;
        });
        expect(status).toBe(401);
        expect(workerIds()).toHaveLength(6);
      } finally {
        await other.close();
      }
    });

    it('a read-only dashboard shows the workers without the control', async () => {
      const other = await browser.newPage();
      try {
        await other.goto(`${readOnly.url}#consumer=jobs`);
        await other.waitForFunction(
          () => document.querySelectorAll('[data-detail-for="jobs"] .worker-list li').length === 6,
          undefined,
          { timeout: 10_000 },
        );
        expect(await other.$$('form.concurrency')).toHaveLength(0);
        expect(await other.$$('[data-action="set-concurrency"]')).toHaveLength(0);
      } finally {
        await other.close();
      }
    });
  },
);
