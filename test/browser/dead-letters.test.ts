// The dashboard's dead-letter panel in headless Chromium, against a runtime on the shared Redis
// (unique keys): counts by reason, replay puts a message back where it is handled, purge after
// confirming, the token on actions, and a read-only dashboard.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Message,
  NonRetryableError,
  RedisStreamStorage,
  Router,
  type Runtime,
  startDashboard,
} from '../../src/index.js';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

// One page, dashboard and runtime for the file: they open streams and timers on behalf of each test.
checkLeaksAtFileEnd();

const TOKEN = 'dlq-browser-token-91c';

// In CI (.ci/run installs chromium) a missing browser is a failure, not a skip.
describe.skipIf(!hasChromium && !process.env.CI)(
  hasChromium
    ? 'dashboard dead-letter panel (headless chromium, real Redis)'
    : 'dashboard dead-letter panel — SKIPPED: /usr/bin/chromium is absent (apt-get install -y chromium)',
  () => {
    const prefix = uniquePrefix();
    const orders = `${prefix}:orders`;
    const dead = `${orders}:dead`;
    const handled: Message[] = [];
    let fixed = false;
    let runtime: Runtime<unknown>;
    let dashboard: Awaited<ReturnType<typeof startDashboard>>;
    let readOnly: Awaited<ReturnType<typeof startDashboard>>;
    let browser: Browser;
    let page: Page;
    let storage: RedisStreamStorage;
    const panel = `[data-dead-letters-for="${orders}"]`;

    beforeAll(async () => {
      const router = new Router();
      router.on('order.paid', async (message) => {
        if (!fixed) throw new Error('payment service down');
        handled.push(message);
      });
      router.on('order.poison', async () => {
        throw new NonRetryableError('payload rejected');
      });
      runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        consumers: [{ id: 'orders', stream: orders, group: 'billing', blockMs: 200, retry: { attempts: 1 } }],
      });
      storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
      dashboard = await startDashboard(runtime, { port: 0, token: TOKEN });
      readOnly = await startDashboard(runtime, { port: 0, readOnly: true });
      await runtime.start();
      await storage.add(orders, { type: 'order.paid', payload: '{"orderId":1}' });
      await storage.add(orders, { type: 'order.paid', payload: '{"orderId":2}' });
      await storage.add(orders, { type: 'order.poison', payload: '{"orderId":3}' });
      const deadline = Date.now() + 10_000;
      while ((await storage.length(dead)) < 3 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1440, height: 1300 } });
    });

    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await readOnly?.close();
      await runtime?.stop({ timeoutMs: 2000 });
      await storage?.close();
      await cleanupKeys(prefix);
    });

    const rows = () =>
      page.$$eval(`${panel} [data-dead-letter-id]`, (trs) =>
        trs.map((tr) => ({
          id: tr.getAttribute('data-dead-letter-id'),
          reason: tr.getAttribute('data-reason'),
        })),
      );

    it('shows three dead letters of two reasons with their counts', async () => {
      expect(await storage.length(dead)).toBe(3);
      await page.goto(`${dashboard.url}?token=${TOKEN}`);
      await page.waitForFunction(
        (sel) => document.querySelectorAll(`${sel} [data-dead-letter-id]`).length === 3,
        panel,
        {
          timeout: 10_000,
        },
      );
      const counts = await page.$$eval(`${panel} [data-count-reason]`, (items) =>
        Object.fromEntries(
          items.map((li) => [li.getAttribute('data-count-reason'), li.getAttribute('data-count')]),
        ),
      );
      expect(counts).toEqual({ 'handler-error': '2', 'non-retryable': '1' });
      expect((await rows()).map((r) => r.reason).sort()).toEqual([
        'handler-error',
        'handler-error',
        'non-retryable',
      ]);
      // The detail view: every field, the payload pretty-printed, the error.
      const [newest] = await rows();
      await page.click(`${panel} [data-dead-letter-id="${newest?.id}"] [data-action="show"]`);
      const detail = await page.$eval(`${panel} .dlq-detail`, (el) => el.textContent ?? '');
      expect(detail).toContain('payload rejected');
      expect(detail).toContain('"orderId": 3');
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/dead-letters.png', fullPage: true });
    });

    it('replay puts one back on its source stream, where it is handled, and removes it from the list', async () => {
      fixed = true;
      const target = (await rows()).find((r) => r.reason === 'handler-error')!.id!;
      await page.click(`${panel} [data-dead-letter-id="${target}"] [data-action="replay"]`);
      await page.waitForFunction(
        ({ sel, id }) => !document.querySelector(`${sel} [data-dead-letter-id="${id}"]`),
        { sel: panel, id: target },
      );
      const deadline = Date.now() + 10_000;
      while (handled.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(handled).toHaveLength(1);
      expect(handled[0]?.fields['x-replayed-from']).toBe(target);
      expect(handled[0]?.stream).toBe(orders);
      expect((await storage.range(dead)).map((e) => e.id)).not.toContain(target);
      expect((await rows()).length).toBe(2);
      await page.waitForSelector(`${panel} [data-count-reason="handler-error"][data-count="1"]`);
    });

    it('purging a reason, after confirming, removes those dead letters', async () => {
      await page.click(`${panel} [data-count-reason="non-retryable"] [data-action="purge"]`);
      expect(await storage.length(dead)).toBe(2); // nothing yet: it asks first
      await page.click(`${panel} [data-action="confirm"]`);
      await page.waitForFunction(
        (sel) => !document.querySelector(`${sel} [data-reason="non-retryable"]`),
        panel,
      );
      expect((await storage.range(dead)).map((e) => e.fields['x-dead-reason'])).toEqual(['handler-error']);
      expect((await rows()).map((r) => r.reason)).toEqual(['handler-error']);
    });

    it('with a token, the same POST without it answers 401', async () => {
      const [left] = await rows();
      const status = await page.evaluate(
        async ({ stream, id }) =>
          (
            await fetch(`api/dead-letters/${encodeURIComponent(stream)}/replay`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ ids: [id] }),
            })
          ).status,
        { stream: orders, id: left?.id },
      );
      expect(status).toBe(401);
      expect(await storage.length(dead)).toBe(1);
    });

    it('with readOnly, no action buttons are rendered and POST answers 403', async () => {
      await page.goto(readOnly.url);
      await page.waitForSelector(`${panel} [data-dead-letter-id]`);
      expect(await page.$$(`${panel} [data-action="replay"], ${panel} [data-action="purge"]`)).toHaveLength(
        0,
      );
      const [left] = await rows();
      const status = await page.evaluate(
        async ({ stream, id }) =>
          (
            await fetch(`api/dead-letters/${encodeURIComponent(stream)}/replay`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ ids: [id] }),
            })
          ).status,
        { stream: orders, id: left?.id },
      );
      expect(status).toBe(403);
      expect(await storage.length(dead)).toBe(1);
    });
  },
);
