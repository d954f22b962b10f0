// The dashboard's concurrency endpoint over the in-memory storage: it changes the workers, and it is
// protected like the dead-letter actions (token in the header only, same origin, JSON, readOnly).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Dashboard,
  MemoryStreamStorage,
  Router,
  type Runtime,
  startDashboard,
} from '../../src/index.js';
import { checkLeaksAtFileEnd } from '../helpers/leak-guard.js';

// The dashboard (opened for the file) restarts its background sampler when a page stops watching.
checkLeaksAtFileEnd();

const TOKEN = 'concurrency-token-5d1';
const auth = { authorization: `Bearer ${TOKEN}` };
const ID = 'orders/billing/c';
const PATH = `/api/consumers/${encodeURIComponent(ID)}/concurrency`;

describe('dashboard concurrency endpoint', () => {
  let runtime: Runtime<unknown>;
  let dashboard: Dashboard;
  let readOnly: Dashboard;
  const at = (path: string, base = dashboard) => new URL(path, base.url);
  const post = (body: unknown, headers: Record<string, string> = auth, base = dashboard, path = PATH) =>
    fetch(at(path, base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = async (response: Response) => ({ status: response.status, body: await response.json() });
  const workers = () => runtime.snapshot().consumers[0]?.workers.length;

  beforeAll(async () => {
    runtime = createRuntime({
      storage: new MemoryStreamStorage(),
      router: new Router(),
      consumers: [{ stream: 'orders', group: 'billing', consumer: 'c', concurrency: 2, blockMs: 50 }],
    });
    await runtime.start();
    dashboard = await startDashboard(runtime, { port: 0, token: TOKEN });
    readOnly = await startDashboard(runtime, { port: 0, readOnly: true });
  });

  afterAll(async () => {
    await dashboard.close();
    await readOnly.close();
    await runtime.stop({ timeoutMs: 1000 });
  });

  it('changes the number of workers and answers once the consumer runs them', async () => {
    expect(await json(await post({ concurrency: 5 }))).toEqual({
      status: 200,
      body: { id: ID, concurrency: 5 },
    });
    expect(workers()).toBe(5);
    expect(await json(await post({ concurrency: 2 }))).toEqual({
      status: 200,
      body: { id: ID, concurrency: 2 },
    });
    expect(workers()).toBe(2);
  });

  it('needs the token in the header (401), not in the URL', async () => {
    expect((await post({ concurrency: 4 }, {})).status).toBe(401);
    expect((await post({ concurrency: 4 }, {}, dashboard, `${PATH}?token=${TOKEN}`)).status).toBe(401);
    expect((await post({ concurrency: 4 }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(workers()).toBe(2);
  });

  it('refuses another origin (403), a body that is not JSON (415), GET (405)', async () => {
    const foreign = await json(await post({ concurrency: 4 }, { ...auth, origin: 'https://evil.example' }));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatch(/only from the dashboard's own page/);
    const form = await fetch(at(PATH), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'concurrency=4',
    });
    expect(form.status).toBe(415);
    expect((await fetch(at(PATH), { headers: auth })).status).toBe(405);
    expect(workers()).toBe(2);
  });

  it('refuses bad counts (400, naming the limits) and unknown consumers (404, naming the known ones)', async () => {
    const zero = await json(await post({ concurrency: 0 }));
    expect(zero).toEqual({
      status: 400,
      body: { error: 'Expected `concurrency` to be an integer from 1 to 1024, got 0' },
    });
    expect((await post({ concurrency: 1025 })).status).toBe(400);
    expect((await post({ concurrency: '4' })).status).toBe(400);
    expect((await post('{not json')).status).toBe(400);
    const unknown = await json(
      await post({ concurrency: 4 }, auth, dashboard, '/api/consumers/nope/concurrency'),
    );
    expect(unknown).toEqual({
      status: 404,
      body: { error: `no consumer "nope" in this runtime; consumers: ${ID}` },
    });
    expect(workers()).toBe(2);
  });

  it('a read-only dashboard refuses it (403) and does not offer the control', async () => {
    const refused = await json(await post({ concurrency: 4 }, {}, readOnly));
    expect(refused).toEqual({
      status: 403,
      body: { error: 'this dashboard is read-only (startDashboard readOnly: true)' },
    });
    expect(workers()).toBe(2);
    expect(await initControls(readOnly)).toEqual({ concurrency: false });
    expect(await initControls(dashboard, `?token=${TOKEN}`)).toEqual({ concurrency: true });
  });
});

/** The `controls` of the page's first event (`init`) on `/events`. */
async function initControls(dashboard: Dashboard, query = ''): Promise<unknown> {
  const controller = new AbortController();
  const response = await fetch(new URL(`/events${query}`, dashboard.url), { signal: controller.signal });
  const reader = response.body?.getReader();
  if (!reader) throw new Error('no event stream');
  let text = '';
  const decoder = new TextDecoder();
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  controller.abort();
  const data = text
    .split('\n')
    .find((line) => line.startsWith('data: '))
    ?.slice(6);
  return (JSON.parse(data ?? '{}') as { controls?: unknown }).controls;
}
