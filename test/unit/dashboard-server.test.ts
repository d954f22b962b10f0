import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, MemoryStreamStorage, Router, startDashboard } from '../../src/index.js';

const TOKEN = 's3cret-token';

describe('startDashboard', () => {
  const runtime = createRuntime({
    storage: new MemoryStreamStorage(),
    router: new Router(),
    consumers: [{ id: 'c1', stream: 'orders', group: 'g', consumer: 'c1' }],
  });
  let dashboard: Awaited<ReturnType<typeof startDashboard>>;
  const at = (path: string) => new URL(path, dashboard.url);

  beforeAll(async () => {
    dashboard = await startDashboard(runtime, { port: 0, token: TOKEN });
  });
  afterAll(async () => {
    await dashboard.close();
    await runtime.stop();
  });

  it('binds to 127.0.0.1 by default', () => {
    expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  });

  it('needs the token for the page, the stream and the metrics, not for the static assets', async () => {
    const denied = await fetch(at('/'));
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await fetch(at(`/?token=wrong`))).status).toBe(401);
    expect((await fetch(at(`/?token=${TOKEN}`))).status).toBe(200);
    expect((await fetch(at('/'), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await fetch(at(`/metrics?token=${TOKEN}`))).status).toBe(401);
    expect((await fetch(at('/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const app = await fetch(at('/assets/app.js'));
    expect(app.status).toBe(200);
    expect(app.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(at('/assets/nope.js'))).status).toBe(404);
    const icon = await fetch(at('/favicon.ico')); // browsers ask for it whatever the page links
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    await icon.text();
    expect((await fetch(at('/'), { method: 'POST' })).status).toBe(405);
  });

  it('serves a page that loads nothing from elsewhere', async () => {
    const page = await fetch(at(`/?token=${TOKEN}`));
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('opens the event stream with an init message carrying charts, view and timeline', async () => {
    const abort = new AbortController();
    const response = await fetch(at(`/events?token=${TOKEN}`), { signal: abort.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\n', text.indexOf('event: init'))) {
      const chunk = await reader.read();
      text += new TextDecoder().decode(chunk.value);
    }
    abort.abort();
    const data = JSON.parse(/event: init\ndata: (.*)\n/.exec(text)![1]!);
    expect(Object.keys(data.charts).sort()).toEqual(['consumer', 'supervisor', 'worker']);
    expect(data.view.consumers[0]).toMatchObject({ id: 'c1', stream: 'orders', group: 'g' });
    expect(Array.isArray(data.timeline)).toBe(true);
  });

  it('rejects bad options with a TypeError', async () => {
    await expect(startDashboard(runtime, { port: -1 })).rejects.toThrow(/Expected `port`/);
    await expect(startDashboard(runtime, { port: 0, token: '' })).rejects.toThrow(/Expected `token`/);
    await expect(startDashboard(runtime, { port: 0, sampleMs: 1 })).rejects.toThrow(/Expected `sampleMs`/);
  });

  it('closes idempotently and ends open streams', async () => {
    const other = await startDashboard(runtime, { port: 0 });
    const response = await fetch(new URL('/events', other.url));
    const reader = response.body!.getReader();
    await reader.read();
    const first = other.close();
    expect(other.close()).toBe(first);
    await first;
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true }));
      if (chunk.done) break;
    }
    await expect(fetch(other.url)).rejects.toThrow();
  });
});
