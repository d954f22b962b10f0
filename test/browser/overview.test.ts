// The page's overview and drill-down in headless Chromium at 1400×900, over demo runtimes on
// in-memory storage (test/helpers/dashboard-demo.ts): every consumer row on the first screen with
// 4 and with 20 consumers, drill-down by click, keyboard and URL, counters labelled by what they count.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { type DashboardDemo, startDashboardDemo } from '../helpers/dashboard-demo.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';

checkLeaksAtFileEnd();

const VIEWPORT = { width: 1400, height: 900 };

/** Each row's box, and whether the point at its middle really is the row (not covered, not clipped). */
function rowBoxes(page: Page) {
  return page.$$eval('tr[data-consumer-id]', (rows) =>
    rows.map((row) => {
      const box = row.getBoundingClientRect();
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      return {
        id: row.getAttribute('data-consumer-id'),
        top: box.top,
        bottom: box.bottom,
        shown: hit !== null && row.contains(hit),
      };
    }),
  );
}

const sumField = (page: Page, field: string) =>
  page.$$eval(`tr[data-consumer-id] [data-field="${field}"]`, (cells) =>
    cells.reduce((n, cell) => n + (Number((cell.textContent ?? '').replace(/,/g, '')) || 0), 0),
  );

describe.skipIf(!hasChromium && !process.env.CI)('dashboard overview (headless chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe('with 4 consumers', () => {
    let demo: DashboardDemo;
    let page: Page;
    const failed: string[] = [];
    beforeAll(async () => {
      demo = await startDashboardDemo(4);
      page = await browser.newPage({ viewport: VIEWPORT });
      page.on('response', (response) => {
        if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
      });
      await page.goto(demo.dashboard.url);
      await page.waitForFunction(() => document.querySelectorAll('tr[data-consumer-id]').length === 4);
    });
    afterAll(async () => {
      await page?.close();
      await demo?.close();
    });

    it('starts every consumer row, the supervisor and the dead-letter summary inside the first screen', async () => {
      const rows = await rowBoxes(page);
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        expect(row.top, row.id ?? '').toBeLessThan(VIEWPORT.height);
        expect(row.bottom, row.id ?? '').toBeLessThanOrEqual(VIEWPORT.height);
        expect(row.shown, row.id ?? '').toBe(true);
      }
      for (const selector of ['#supervisor-state', '#dl-summary']) {
        const box = await page.$eval(selector, (el) => el.getBoundingClientRect().toJSON());
        expect(box.bottom, selector).toBeLessThanOrEqual(VIEWPORT.height);
        expect(box.height, selector).toBeGreaterThan(0);
      }
      expect(await page.$eval('#supervisor-state', (el) => el.textContent)).toBe('running');
    });

    it('labels the counters by what they count; only dead letters are red', async () => {
      await demo.publish(40, 25); // per stream: 5 fail once then succeed (i % 7), 1 poison (i = 25)
      const streams = demo.streams.length;
      await page.waitForFunction(
        (n) => {
          const sum = (field: string) =>
            Array.from(document.querySelectorAll(`tr[data-consumer-id] [data-field="${field}"]`)).reduce(
              (total, cell) => total + (Number(cell.textContent) || 0),
              0,
            );
          return sum('processed') === 39 * n && sum('deadLettered') === n && sum('retriedMessages') === 5 * n;
        },
        streams,
        { timeout: 15_000 },
      );
      expect(await sumField(page, 'failed')).toBe(5 * streams); // attempts that threw (poison is not retried)
      const headers = await page.$$eval('#consumers th', (ths) => ths.map((th) => th.textContent));
      expect(headers).toEqual(expect.arrayContaining(['failed attempts', 'retried msgs', 'dead-lettered']));
      const colors = await page.evaluate(() => {
        const color = (selector: string) =>
          Array.from(document.querySelectorAll(selector))
            .filter((cell) => Number(cell.textContent) > 0)
            .map((cell) => getComputedStyle(cell).color);
        const bad = getComputedStyle(document.documentElement).getPropertyValue('--bad').trim();
        const probe = document.createElement('span');
        probe.style.color = bad;
        document.body.append(probe);
        const red = getComputedStyle(probe).color;
        probe.remove();
        return {
          red,
          dead: color('tr[data-consumer-id] [data-field="deadLettered"]'),
          failed: color('tr[data-consumer-id] [data-field="failed"]'),
          retried: color('tr[data-consumer-id] [data-field="retriedMessages"]'),
        };
      });
      expect(colors.dead.length).toBeGreaterThan(0);
      for (const c of colors.dead) expect(c).toBe(colors.red);
      expect(colors.failed.length).toBeGreaterThan(0);
      for (const c of [...colors.failed, ...colors.retried]) expect(c).not.toBe(colors.red);
    });

    it('filters the timeline by kind: lifecycle, retries, dead letters', async () => {
      const visible = (group: string) =>
        page.$$eval(
          `#timeline li[data-group="${group}"]`,
          (items) => items.filter((li) => (li as HTMLElement).offsetParent !== null).length,
        );
      await page.waitForSelector('#timeline li[data-group="retries"]');
      expect(await visible('lifecycle')).toBeGreaterThan(0);
      expect(await visible('dead')).toBeGreaterThan(0);
      await page.click('[data-filter="dead"]');
      await page.click('[data-filter="retries"]');
      expect(await visible('dead')).toBe(0);
      expect(await visible('retries')).toBe(0);
      expect(await visible('lifecycle')).toBeGreaterThan(0);
      await page.click('[data-filter="dead"]');
      await page.click('[data-filter="retries"]');
      expect(await visible('dead')).toBeGreaterThan(0);
    });

    it('opens a consumer on click: its statechart, workers, charts, types and timeline, and the URL says so', async () => {
      const [first, second] = demo.runtime.consumers;
      await page.click(`tr[data-consumer-id="${first!.id}"]`);
      const detail = `[data-detail-for="${first!.id}"]`;
      await page.waitForSelector(detail);
      expect(new URL(page.url()).hash).toBe(`#consumer=${encodeURIComponent(first!.id)}`);
      const state = await page.getAttribute(`tr[data-consumer-id="${first!.id}"]`, 'data-state');
      expect(
        await page.$eval(`${detail} .consumer-chart .state-node.active`, (g) => g.getAttribute('data-node')),
      ).toBe(state);
      expect(await page.$$(`${detail} .worker-list li[data-worker-id]`)).toHaveLength(4);
      expect(await page.$$(`${detail} [data-trends-for="${first!.id}"] figure.trend`)).toHaveLength(4);
      await page.waitForSelector(`${detail} .type-table tr[data-type="order.placed"]`);
      // The types refresh once per group poll: wait until the retried messages' second tries show.
      const flaky = `${detail} .type-table tr[data-type="order.flaky"]`;
      await page.waitForFunction(
        (sel) => {
          const cell = (field: string) =>
            Number(document.querySelector(`${sel} [data-field="${field}"]`)?.textContent ?? '0');
          return cell('retried') > 0 && cell('handled') === cell('retried'); // each failed once, then succeeded
        },
        flaky,
        { timeout: 5000 },
      );
      expect(await page.$eval(`${flaky} [data-field="deadLettered"]`, (c) => c.textContent)).toBe('0');
      // Each machine's chart is drawn once for the consumer in view, not per consumer.
      expect(await page.$$('.consumer-chart svg')).toHaveLength(1);
      expect(await page.$$('.worker-chart svg')).toHaveLength(1);
      // Another row: the same charts, now for it.
      await page.click(`tr[data-consumer-id="${second!.id}"]`);
      await page.waitForSelector(`[data-detail-for="${second!.id}"]`);
      expect(await page.$$('.consumer-chart svg')).toHaveLength(1);
      expect(await page.$$('tr[aria-selected="true"]')).toHaveLength(1);
      await page.click('#detail .close');
      expect(await page.isHidden('#detail')).toBe(true);
      expect(new URL(page.url()).hash).toBe('');
    });

    it('moves with the arrow keys and selects with Enter or Space', async () => {
      const ids = demo.runtime.consumers.map((c) => c.id);
      await page.focus(`tr[data-consumer-id="${ids[0]}"]`);
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      expect(await page.evaluate(() => document.activeElement?.getAttribute('data-consumer-id'))).toBe(
        ids[2],
      );
      await page.keyboard.press('Enter');
      await page.waitForSelector(`[data-detail-for="${ids[2]}"]`);
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press(' ');
      await page.waitForSelector(`[data-detail-for="${ids[1]}"]`);
      expect(await page.getAttribute(`tr[data-consumer-id="${ids[1]}"]`, 'aria-selected')).toBe('true');
      expect(new URL(page.url()).hash).toBe(`#consumer=${encodeURIComponent(ids[1]!)}`);
      await page.goBack(); // the previous selection
      await page.waitForSelector(`[data-detail-for="${ids[2]}"]`);
      // One tab stop for the whole table (a roving tabindex): the selected row.
      expect(
        await page.$$eval('tr[data-consumer-id][tabindex="0"]', (rows) =>
          rows.map((r) => r.getAttribute('data-consumer-id')),
        ),
      ).toEqual([ids[2]]);
    });

    it('opens the consumer a link names', async () => {
      const id = demo.runtime.consumers[3]!.id;
      const other = await browser.newPage({ viewport: VIEWPORT });
      try {
        await other.goto(`${demo.dashboard.url}#consumer=${encodeURIComponent(id)}`);
        await other.waitForSelector(`[data-detail-for="${id}"] .consumer-chart .state-node.active`);
        expect(await other.getAttribute(`tr[data-consumer-id="${id}"]`, 'aria-selected')).toBe('true');
      } finally {
        await other.close();
      }
    });

    it('has a favicon, and nothing the page asked for failed', async () => {
      const icon = await fetch(new URL('favicon.ico', demo.dashboard.url));
      expect(icon.status).toBe(200);
      expect(icon.headers.get('content-type')).toBe('image/svg+xml');
      expect(await icon.text()).toContain('<svg');
      expect(await page.$eval('link[rel="icon"]', (link) => (link as HTMLLinkElement).href)).toMatch(
        /\/assets\/favicon\.svg$/,
      );
      expect(failed).toEqual([]);
    });
  });

  describe('with 20 consumers', () => {
    let demo: DashboardDemo;
    let page: Page;
    beforeAll(async () => {
      demo = await startDashboardDemo(20);
      page = await browser.newPage({ viewport: VIEWPORT });
    });
    afterAll(async () => {
      await page?.close();
      await demo?.close();
    });

    it('lists every consumer row without scrolling the window', async () => {
      await page.goto(demo.dashboard.url);
      await page.waitForFunction(() => document.querySelectorAll('tr[data-consumer-id]').length === 20);
      await demo.publish(20, 10); // dead letters and sparklines: the rows must not grow with them
      await page.waitForFunction(
        () => Number(document.getElementById('dl-total')?.dataset.count) > 0,
        undefined,
        {
          timeout: 15_000,
        },
      );
      expect(await page.evaluate(() => scrollY)).toBe(0);
      const rows = await rowBoxes(page);
      expect(rows).toHaveLength(20);
      const outside = rows.filter((row) => row.bottom > VIEWPORT.height || !row.shown);
      expect(outside).toEqual([]);
    });

    it('brings the drill-down into view when a link names a consumer below the overview', async () => {
      const id = demo.runtime.consumers[19]!.id;
      const other = await browser.newPage({ viewport: VIEWPORT });
      try {
        await other.goto(`${demo.dashboard.url}#consumer=${encodeURIComponent(id)}`);
        await other.waitForSelector(`[data-detail-for="${id}"] .consumer-chart .state-node.active`);
        const top = await other.$eval('#detail', (el) => el.getBoundingClientRect().top);
        expect(top).toBeGreaterThanOrEqual(0);
        expect(top).toBeLessThan(VIEWPORT.height / 2);
      } finally {
        await other.close();
      }
    });
  });
});
