// The dead-letter panel keeps up while dead letters keep arriving (headless Chromium, real Redis,
// unique keys): every 150 ms a poison message is dead-lettered, and at every moment the panel lists at
// least as many rows as the dead-letter stream held one second earlier (up to its page size of 20).

import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  NonRetryableError,
  RedisStreamStorage,
  Router,
  type Runtime,
  startDashboard,
} from '../../src/index.js';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';
import { cleanupKeys, sharedRedisUrl, uniquePrefix } from '../helpers/redis.js';

checkLeaksAtFileEnd();

const PAGE_SIZE = 20;

describe.skipIf(!hasChromium && !process.env.CI)(
  'dead-letter panel under steady dead-lettering (headless chromium, real Redis)',
  () => {
    const prefix = uniquePrefix();
    const orders = `${prefix}:orders`;
    const dead = `${orders}:dead`;
    const panel = `[data-dead-letters-for="${orders}"]`;
    let runtime: Runtime<unknown>;
    let dashboard: Awaited<ReturnType<typeof startDashboard>>;
    let browser: Browser;
    let page: Page;
    let storage: RedisStreamStorage;

    beforeAll(async () => {
      const router = new Router();
      router.on('order.poison', async () => {
        throw new NonRetryableError('payload rejected');
      });
      runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        consumers: [{ id: 'orders', stream: orders, group: 'billing', blockMs: 100 }],
        logger: pino({ level: 'silent' }), // a dead letter logs an error: 30 of them by design
      });
      storage = RedisStreamStorage.fromUrl(sharedRedisUrl());
      dashboard = await startDashboard(runtime, { port: 0 });
      await runtime.start();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    });

    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await runtime?.stop({ timeoutMs: 2000 });
      await storage?.close();
      await cleanupKeys(prefix);
    });

    /** A poison message every 150 ms by the clock (not 150 ms after each add: the pace does not drift). */
    function produce() {
      let producing = true;
      const done = (async () => {
        const first = Date.now();
        for (let n = 1; producing; n++) {
          await storage.add(orders, { type: 'order.poison', payload: '{}' });
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, first + n * 150 - Date.now())));
        }
      })();
      return {
        stop: async () => {
          producing = false;
          await done;
        },
      };
    }

    it('lists at least as many rows as the stream held 1 s earlier, every 100 ms for 5 s', async () => {
      await page.goto(dashboard.url);
      await page.waitForSelector(`${panel} .empty`, { timeout: 10_000 });
      const producer = produce();
      const samples: { at: number; held: number; rows: number; shown: number }[] = [];
      const started = Date.now();
      try {
        while (Date.now() - started < 5000) {
          const held = await storage.length(dead);
          const [rows, shown] = await page.$eval(panel, (root) => [
            root.querySelectorAll('[data-dead-letter-id]').length,
            Number(root.getAttribute('data-total')),
          ]);
          samples.push({ at: Date.now(), held, rows, shown });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await producer.stop();
      }
      expect(samples.at(-1)!.held).toBeGreaterThan(PAGE_SIZE); // the stream outgrew a page
      const late: string[] = [];
      for (const sample of samples) {
        const before = samples.filter((s) => s.at <= sample.at - 1000).at(-1);
        if (!before) continue;
        if (sample.rows < Math.min(PAGE_SIZE, before.held))
          late.push(
            `at +${sample.at - started} ms: ${sample.rows} rows, the stream held ${before.held} 1 s before`,
          );
        // The total in the panel's header keeps up too (it may run ahead of a reload, never a second behind).
        if (sample.shown < before.held)
          late.push(
            `at +${sample.at - started} ms: total ${sample.shown}, the stream held ${before.held} 1 s before`,
          );
      }
      expect(late).toEqual([]);
    });

    it('keeps a ticked row ticked while the list reloads under it', async () => {
      const [id] = await page.$$eval(`${panel} [data-dead-letter-id]`, (rows) =>
        rows.map((row) => row.getAttribute('data-dead-letter-id')),
      );
      await page.check(`${panel} [data-dead-letter-id="${id}"] input[type="checkbox"]`);
      const before = await page.$eval(panel, (root) => root.getAttribute('data-total'));
      const producer = produce();
      try {
        // A few reloads (every 500 ms while dead letters come), the ticked one still on the first page.
        await page.waitForFunction(
          ({ sel, total }) =>
            Number(document.querySelector(sel)?.getAttribute('data-total')) >= Number(total) + 4,
          { sel: panel, total: before },
          { timeout: 5000 },
        );
      } finally {
        await producer.stop();
      }
      expect(await page.isChecked(`${panel} [data-dead-letter-id="${id}"] input[type="checkbox"]`)).toBe(
        true,
      );
    });
  },
);
