// The dashboard page in headless Chromium, against a runtime on the shared Redis (unique keys).
import { existsSync, mkdirSync } from 'node:fs';
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

// One page, dashboard and runtime for the file: they open streams and timers on behalf of each test.
checkLeaksAtFileEnd();

const TOKEN = 'test-token-4f1c';
const RUNNING = ['polling', 'dispatching'];

// In CI (.ci/run installs chromium) a missing browser is a failure, not a skip.
describe.skipIf(!hasChromium && !process.env.CI)(
  hasChromium
    ? 'dashboard page (headless chromium, real Redis)'
    : 'dashboard page — SKIPPED: /usr/bin/chromium is absent (apt-get install -y chromium)',
  () => {
    const prefix = uniquePrefix();
    const orders = `${prefix}:orders`;
    const audit = `${prefix}:audit`;
    const failedOnce = new Set<string>();
    let runtime: Runtime<unknown>;
    let dashboard: Awaited<ReturnType<typeof startDashboard>>;
    let browser: Browser;
    let page: Page;
    let publisher: RedisStreamStorage;

    beforeAll(async () => {
      const router = new Router();
      router.on('order.placed', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
      });
      router.on('order.flaky', async (message) => {
        if (!failedOnce.has(message.id)) {
          failedOnce.add(message.id);
          throw new Error('flaky downstream');
        }
      });
      router.on('order.poison', async () => {
        throw new NonRetryableError('payload rejected');
      });
      router.on('audit.logged', async () => {});
      runtime = createRuntime({
        storage: RedisStreamStorage.fromUrl(sharedRedisUrl()),
        router,
        consumers: [
          { id: 'orders-a', stream: orders, group: 'billing', consumer: 'a', concurrency: 4, blockMs: 200 },
          { id: 'orders-b', stream: orders, group: 'billing', consumer: 'b', concurrency: 2, blockMs: 200 },
          { id: 'audit', stream: audit, group: 'audit', consumer: 'x', concurrency: 2, blockMs: 200 },
        ],
        // A visible restart: the supervisor waits 800 ms before it brings a consumer back.
        supervisor: { backoff: { minMs: 800, maxMs: 1600, randomFactor: 0 } },
      });
      publisher = RedisStreamStorage.fromUrl(sharedRedisUrl());
      dashboard = await startDashboard(runtime, { port: 0, token: TOKEN });
      await runtime.start();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1440, height: 1300 } });
    });

    afterAll(async () => {
      await browser?.close();
      await dashboard?.close();
      await runtime?.stop({ timeoutMs: 2000 });
      await publisher?.close();
      await cleanupKeys(prefix);
    });

    const states = () =>
      page.$$eval('[data-consumer-id]', (cards) =>
        Object.fromEntries(
          cards.map((c) => [c.getAttribute('data-consumer-id'), c.getAttribute('data-state')]),
        ),
      );
    const counter = (id: string, field: string) =>
      page.$eval(
        `[data-consumer-id="${id}"] [data-field="${field}"]`,
        (dd) => Number((dd.textContent ?? '').replace(/,/g, '')) || 0,
      );

    it('refuses the page and the stream without the token', async () => {
      expect((await fetch(dashboard.url)).status).toBe(401);
      expect((await fetch(new URL('events', dashboard.url))).status).toBe(401);
      expect((await fetch(new URL('metrics', dashboard.url))).status).toBe(401);
      const ok = await fetch(new URL('metrics', dashboard.url), {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(ok.status).toBe(200);
      await ok.text();
    });

    it("shows every consumer's current state", async () => {
      await page.goto(`${dashboard.url}?token=${TOKEN}`);
      await page.waitForFunction(
        (running) => {
          const cards = Array.from(document.querySelectorAll('[data-consumer-id]'));
          return (
            cards.length === 3 && cards.every((c) => running.includes(c.getAttribute('data-state') ?? ''))
          );
        },
        RUNNING,
        { timeout: 10_000 },
      );
      expect(Object.keys(await states()).sort()).toEqual(['audit', 'orders-a', 'orders-b']);
      // Selecting the row opens its drill-down: the statechart highlights the state the row reports.
      await page.click('[data-consumer-id="orders-a"]');
      const highlighted = await page.$eval(
        '[data-detail-for="orders-a"] .consumer-chart .state-node.active',
        (g) => g.getAttribute('data-node'),
      );
      expect(RUNNING).toContain(highlighted);
      expect(await page.$$('[data-detail-for="orders-a"] .worker-list li')).toHaveLength(4);
      // Transitions without a target are drawn too, as dashed loops: the read loop in the consumer's
      // chart, and (once the drill-down is closed, where the supervisor's chart shows) the restart.
      const readLoop = await page.$eval(
        '[data-detail-for="orders-a"] .consumer-chart [data-edge="polling->polling"] .edge-line',
        (path) => path.getAttribute('stroke-dasharray'),
      );
      expect(readLoop).toBe('4 3');
      await page.click('[data-detail-for="orders-a"] button.close');
      const restartEdge = 'svg[aria-label="supervisor statechart"] [data-edge="running->running"]';
      await page.waitForSelector(restartEdge, { timeout: 5_000 });
      expect(
        await page.$eval(`${restartEdge} .edge-line`, (path) => path.getAttribute('stroke-dasharray')),
      ).toBe('4 3');
      const restart = await page.$eval(`${restartEdge} .edge-label`, (text) =>
        Array.from(text.querySelectorAll('tspan'), (span) => span.textContent),
      );
      expect(restart.join(' / ')).toContain('restart');
      expect(restart.length).toBeGreaterThan(1);
      // The later tests read orders-a's drill-down: open it again.
      await page.click('[data-consumer-id="orders-a"]');
      await page.waitForSelector('[data-detail-for="orders-a"] .consumer-chart', { timeout: 5_000 });
    });

    it('counts processed, retried and dead-lettered messages as they happen', async () => {
      for (let i = 0; i < 40; i++)
        await publisher.add(orders, { type: 'order.placed', payload: `{"n":${i}}` });
      for (let i = 0; i < 3; i++) await publisher.add(orders, { type: 'order.flaky', payload: '{}' });
      for (let i = 0; i < 2; i++) await publisher.add(orders, { type: 'order.poison', payload: '{}' });
      for (let i = 0; i < 10; i++) await publisher.add(audit, { type: 'audit.logged', payload: '{}' });
      await page.waitForFunction(
        () => {
          const sum = (field: string) =>
            Array.from(
              document.querySelectorAll(`[data-consumer-id^="orders"] [data-field="${field}"]`),
            ).reduce((n, dd) => n + (Number((dd.textContent ?? '').replace(/,/g, '')) || 0), 0);
          return sum('processed') >= 43 && sum('retriedMessages') >= 3 && sum('deadLettered') >= 2;
        },
        undefined,
        { timeout: 15_000 },
      );
      await page.waitForFunction(
        () =>
          document.querySelector('[data-consumer-id="audit"] [data-field="processed"]')?.textContent === '10',
      );
      const shown = (await counter('orders-a', 'processed')) + (await counter('orders-b', 'processed'));
      const actual = runtime.snapshot().consumers.filter((c) => c.stream === orders);
      expect(shown).toBe(actual.reduce((n, c) => n + c.processed, 0));
      await page.waitForSelector('#timeline li[data-kind="message.dead-lettered"]');
    });

    it('shows the state change when the group is destroyed, and the healing', async () => {
      await page.evaluate(() => {
        const seen: Record<string, string[]> = {};
        (window as unknown as { seenStates: typeof seen }).seenStates = seen;
        const record = (card: Element) => {
          const id = card.getAttribute('data-consumer-id') ?? '';
          const state = card.getAttribute('data-state') ?? '';
          const list = seen[id] ?? [];
          seen[id] = list;
          if (list.at(-1) !== state) list.push(state);
        };
        document.querySelectorAll('[data-consumer-id]').forEach(record);
        new MutationObserver((mutations) => {
          for (const m of mutations) record(m.target as Element);
        }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
      });
      const before = runtime.snapshot().consumers.find((c) => c.id === 'orders-a')!.restarts;
      expect(await publisher.destroyGroup(orders, 'billing')).toBe(true);
      await page.waitForFunction(
        () => {
          const seen = (window as unknown as { seenStates: Record<string, string[]> }).seenStates;
          const a = seen['orders-a'] ?? [];
          const left = a.findIndex((s) => s !== 'polling' && s !== 'dispatching');
          return left >= 0 && a.slice(left + 1).some((s) => s === 'polling' || s === 'dispatching');
        },
        undefined,
        { timeout: 15_000 },
      );
      const seen = await page.evaluate(
        () => (window as unknown as { seenStates: Record<string, string[]> }).seenStates,
      );
      expect(seen['orders-a']).toContain('restarting');
      expect(seen.audit?.every((s) => RUNNING.includes(s))).toBe(true);
      await page.waitForSelector('#timeline li[data-kind="consumer.group-created"]');
      const healed = await page.$$eval('#timeline li[data-kind="consumer.group-created"] .what', (els) =>
        els.map((e) => e.textContent),
      );
      expect(healed.some((t) => t?.startsWith('NOGROUP healed'))).toBe(true);
      await page.waitForFunction(
        (n) =>
          Number(
            document.querySelector('[data-consumer-id="orders-a"] [data-field="restarts"]')?.textContent,
          ) > n,
        before,
      );
    });

    it('keeps counting after the healing, then writes a screenshot', async () => {
      const before = (await counter('orders-a', 'processed')) + (await counter('orders-b', 'processed'));
      for (let i = 0; i < 20; i++) await publisher.add(orders, { type: 'order.placed', payload: '{}' });
      await page.waitForFunction(
        (n) =>
          Array.from(
            document.querySelectorAll('[data-consumer-id^="orders"] [data-field="processed"]'),
          ).reduce((sum, dd) => sum + (Number((dd.textContent ?? '').replace(/,/g, '')) || 0), 0) >=
          n + 20,
        before,
        { timeout: 15_000 },
      );
      await page.waitForFunction((running) => {
        const cards = Array.from(document.querySelectorAll('[data-consumer-id]'));
        return cards.every((c) => running.includes(c.getAttribute('data-state') ?? ''));
      }, RUNNING);
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
      expect(existsSync('test-artifacts/dashboard.png')).toBe(true);
    });

    it('draws live charts of processed/s, in flight, pending and lag per consumer, and screenshots them', async () => {
      // A burst the slow handler (5 ms) cannot keep up with: in flight, pending and lag all rise.
      for (let i = 0; i < 400; i++) await publisher.add(orders, { type: 'order.placed', payload: '{}' });
      const series = ['rate', 'inFlight', 'pending', 'lag'];
      // Every consumer's row has its sparkline, the selected one its four charts, each with several
      // points; the burst shows on processed/s.
      await page.waitForFunction(
        (keys) =>
          ['orders-a', 'orders-b', 'audit'].every(
            (id) =>
              Number(
                document
                  .querySelector(`[data-consumer-id="${id}"] [data-spark]`)
                  ?.getAttribute('data-points'),
              ) >= 3,
          ) &&
          keys.every(
            (key) =>
              Number(
                document
                  .querySelector(`[data-trends-for="orders-a"] [data-series="${key}"]`)
                  ?.getAttribute('data-points'),
              ) >= 3,
          ) &&
          Number(
            (
              document.querySelector('[data-trends-for="orders-a"] [data-series="rate"] .trend-max')
                ?.textContent ?? ''
            ).replace(/[^0-9.]/g, ''),
          ) > 0,
        series,
        { timeout: 15_000 },
      );
      const charts = await page.$$eval('[data-trends-for="orders-a"] figure.trend', (figures) =>
        figures.map((f) => ({
          series: f.getAttribute('data-series'),
          points: Number(f.getAttribute('data-points')),
          line: f.querySelector('path.trend-line')?.getAttribute('d') ?? '',
          box: f.querySelector('svg')?.getBoundingClientRect().width ?? 0,
        })),
      );
      expect(charts.map((c) => c.series)).toEqual(series);
      for (const chart of charts) {
        expect(chart.points, chart.series ?? '').toBeGreaterThanOrEqual(3);
        expect(chart.line.match(/[ML]/g)?.length ?? 0, chart.series ?? '').toBeGreaterThanOrEqual(3);
        expect(chart.box, chart.series ?? '').toBeGreaterThan(100);
      }
      mkdirSync('test-artifacts', { recursive: true });
      await page
        .locator('[data-detail-for="orders-a"]')
        .screenshot({ path: 'test-artifacts/dashboard-charts.png' });
      await page.screenshot({ path: 'test-artifacts/dashboard.png', fullPage: true });
      expect(existsSync('test-artifacts/dashboard-charts.png')).toBe(true);
    });
  },
);
