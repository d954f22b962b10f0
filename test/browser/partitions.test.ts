// Leased partitions on the page, in headless Chromium: two runtimes share 4 leased partitions on one
// in-memory storage; the first's dashboard shows each partition's owner in the overview (a tag per
// consumer row, on the first screen) and in the drill-down's partitions table, and follows a change.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../helpers/chromium.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';
import { type LeasedPair, PARTITIONS, startLeasedPair } from '../helpers/leased-pair.js';

checkLeaksAtFileEnd();

const VIEWPORT = { width: 1400, height: 900 };

type Shown = {
  partition: string | null;
  owner: string | null;
  mine: string | null;
  bottom: number;
  /** The whole element is on screen, not clipped by its cell, and the point at its middle is it. */
  visible: boolean;
};

const shown = (page: Page, selector: string): Promise<Shown[]> =>
  page.$$eval(selector, (nodes) =>
    nodes.map((node) => ({
      partition: node.getAttribute('data-partition'),
      owner: node.getAttribute('data-owner'),
      mine: node.getAttribute('data-mine'),
      bottom: node.getBoundingClientRect().bottom,
      visible: (() => {
        const box = node.getBoundingClientRect();
        const cell = (node.closest('td') ?? node).getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return (
          box.width > 0 &&
          box.right <= cell.right + 0.5 &&
          box.bottom <= innerHeight &&
          hit !== null &&
          (node === hit || node.contains(hit))
        );
      })(),
    })),
  );

describe.skipIf(!hasChromium && !process.env.CI)('dashboard: leased partitions (headless chromium)', () => {
  let browser: Browser;
  let pair: LeasedPair;
  let page: Page;
  beforeAll(async () => {
    browser = await launchChromium();
    pair = await startLeasedPair();
    await pair.settled(PARTITIONS / 2);
    page = await browser.newPage({ viewport: VIEWPORT });
    await page.goto(pair.dashboard.url);
    await page.waitForFunction(
      (n) => document.querySelectorAll('tr[data-consumer-id] .owner[data-partition]').length === n,
      PARTITIONS,
    );
  }, 60_000);
  afterAll(async () => {
    await page?.close();
    await browser?.close();
    await pair?.close();
  });

  it("shows each partition's owner in its overview row, on the first screen, this runtime's marked", async () => {
    const expected = (pair.a.snapshot().partitions ?? []).map((p) => ({
      partition: String(p.partition),
      owner: p.owner,
      mine: String(p.mine),
    }));
    const tags = await shown(page, 'tr[data-consumer-id] .owner');
    expect(
      tags
        .map(({ partition, owner, mine }) => ({ partition, owner, mine }))
        .sort((x, y) => Number(x.partition) - Number(y.partition)),
    ).toEqual(expected.sort((x, y) => Number(x.partition) - Number(y.partition)));
    expect(expected.filter((p) => p.mine === 'true')).toHaveLength(PARTITIONS / 2);
    expect(expected.filter((p) => p.owner?.startsWith('pod-b/'))).toHaveLength(PARTITIONS / 2);
    for (const tag of tags) expect(tag, JSON.stringify(tag)).toMatchObject({ visible: true });
    const texts = await page.$$eval('tr[data-consumer-id] .owner', (nodes) =>
      nodes.map((n) => n.textContent),
    );
    expect(texts.filter((t) => /^p\d · mine$/.test(t ?? ''))).toHaveLength(PARTITIONS / 2);
    expect(texts.filter((t) => /^p\d · pod-b$/.test(t ?? ''))).toHaveLength(PARTITIONS / 2);
    expect(
      await page.$eval('[data-owned]', (el) => [
        el.getAttribute('data-owned'),
        el.getAttribute('data-leased'),
      ]),
    ).toEqual([String(PARTITIONS / 2), String(PARTITIONS)]);
  });

  it('lists every partition with its owner in the drill-down, and follows the owners when the other runtime stops', async () => {
    const first = pair.a.snapshot().partitions?.[0];
    await page.click(`tr[data-consumer-id="${first?.consumerId}"]`);
    await page.waitForFunction(
      (n) => document.querySelectorAll('#detail .partition-table tr[data-partition]').length === n,
      PARTITIONS,
    );
    const rows = await shown(page, '#detail .partition-table tr[data-partition]');
    expect(rows.map((r) => r.partition)).toEqual(['0', '1', '2', '3']);
    for (const p of pair.a.snapshot().partitions ?? []) {
      expect(rows[p.partition]).toMatchObject({ owner: p.owner, mine: String(p.mine) });
    }
    expect(
      await page.$eval('#detail .partition-table tr[aria-current="true"]', (r) => r.dataset.partition),
    ).toBe(String(first?.partition));

    await pair.b.stop(); // its leases are released at once; a takes them
    await page.waitForFunction(
      (n) => document.querySelectorAll('#detail .partition-table tr[data-mine="true"]').length === n,
      PARTITIONS,
      { timeout: 20_000 },
    );
    const token = (pair.a.snapshot().partitions ?? [])[0]?.owner;
    const after = await shown(page, 'tr[data-consumer-id] .owner');
    expect(after.map((t) => [t.owner, t.mine])).toEqual(Array(PARTITIONS).fill([token, 'true']));
  }, 30_000);
});
