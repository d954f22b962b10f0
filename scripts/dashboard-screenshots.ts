// Regenerates the screenshots in docs/visualization.md (docs/img/dashboard-*.png): the page in
// Debian's Chromium at 1400×900 over a demo runtime (in-memory storage, generated traffic).
// Run: npx tsx scripts/dashboard-screenshots.ts
import { mkdirSync } from 'node:fs';
import { hasChromium, launchChromium } from '../test/helpers/chromium.js';
import { startDashboardDemo } from '../test/helpers/dashboard-demo.js';

const OUT = new URL('../docs/img/', import.meta.url).pathname;
const VIEWPORT = { width: 1400, height: 900 };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  if (!hasChromium) throw new Error('/usr/bin/chromium is absent (apt-get install -y chromium)');
  mkdirSync(OUT, { recursive: true });
  const browser = await launchChromium();
  try {
    for (const count of [4, 20]) {
      const demo = await startDashboardDemo(count);
      try {
        const page = await browser.newPage({ viewport: VIEWPORT });
        await page.goto(demo.dashboard.url);
        // A few seconds of traffic, so the sparklines and counters have something to show.
        for (let round = 0; round < 6; round++) {
          await demo.publish(40, 25);
          await pause(700);
        }
        await page.waitForSelector('[data-spark]:not([data-points="0"])');
        await page.screenshot({ path: `${OUT}dashboard-overview-${count}.png` });
        if (count === 4) {
          const [first] = demo.runtime.consumers;
          await page.click(`[data-consumer-id="${first!.id}"]`);
          await page.waitForSelector(`[data-detail-for="${first!.id}"]`);
          await demo.publish(40, 25); // traffic while the drill-down is open: its rate is not 0
          await pause(900);
          await page.screenshot({ path: `${OUT}dashboard-drill-down.png`, fullPage: true });
          await page.locator('#dead-letters').screenshot({ path: `${OUT}dashboard-dead-letters.png` });
        }
        await page.close();
      } finally {
        await demo.close();
      }
    }
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
