// The dashboard's dead-letter endpoints over the in-memory storage: listing with counts and paging,
// replay and purge (the CLI's code), refusals that touch nothing, token, origin and readOnly.
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Dashboard,
  MemoryStreamStorage,
  Router,
  type Runtime,
  type StreamFields,
  startDashboard,
} from '../../src/index.js';

const TOKEN = 'dlq-token-7a2e';
const auth = { authorization: `Bearer ${TOKEN}` };

function deadLetter(source: string, reason: string, n: number): StreamFields {
  return {
    type: 'order.paid',
    payload: JSON.stringify({ n }),
    'x-dead-reason': reason,
    'x-dead-error': `failure ${n}`,
    'x-source-stream': source,
    'x-source-id': `${n}-0`,
    'x-group': 'billing',
    'x-deliveries': '2',
    'x-dead-at': String(Date.now()),
  };
}

describe('dashboard dead-letter API', () => {
  const storage = new MemoryStreamStorage();
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  let runtime: Runtime<unknown>;
  let dashboard: Dashboard;
  let readOnly: Dashboard;
  const at = (path: string, base = dashboard) => new URL(path, base.url);
  const post = (path: string, body: unknown, headers: Record<string, string> = auth, base = dashboard) =>
    fetch(at(path, base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const json = async (response: Response) => ({ status: response.status, body: await response.json() });

  beforeAll(async () => {
    runtime = createRuntime({
      storage,
      router: new Router(),
      // Both streams share one dead-letter stream: ids of one are refused on the other's endpoints.
      consumers: [
        { id: 'orders', stream: 'orders', group: 'billing', deadLetter: { stream: 'shared:dead' } },
        { id: 'audit', stream: 'audit', group: 'audit', deadLetter: { stream: 'shared:dead' } },
      ],
    });
    dashboard = await startDashboard(runtime, { port: 0, token: TOKEN, logger });
    readOnly = await startDashboard(runtime, { port: 0, readOnly: true });
  });
  afterAll(async () => {
    await dashboard.close();
    await readOnly.close();
    await runtime.stop();
  });

  let ids: string[] = [];
  let auditId = '';
  beforeEach(async () => {
    for (const entry of await storage.range('shared:dead')) await storage.delete('shared:dead', [entry.id]);
    for (const entry of await storage.range('orders')) await storage.delete('orders', [entry.id]);
    ids = [];
    for (let n = 0; n < 25; n++) {
      ids.push(
        await storage.add('shared:dead', deadLetter('orders', n < 20 ? 'handler-error' : 'non-retryable', n)),
      );
    }
    auditId = await storage.add('shared:dead', deadLetter('audit', 'missing-type', 99));
    lines.length = 0;
  });

  it('lists the streams, then a page newest first with counts by reason, and the next page', async () => {
    expect((await json(await fetch(at('/api/dead-letters'), { headers: auth }))).body).toEqual({
      readOnly: false,
      streams: [
        { stream: 'orders', deadStream: 'shared:dead' },
        { stream: 'audit', deadStream: 'shared:dead' },
      ],
    });
    const first = await json(await fetch(at('/api/dead-letters/orders?limit=10'), { headers: auth }));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      stream: 'orders',
      total: 25,
      counts: { 'handler-error': 20, 'non-retryable': 5 },
    });
    expect(first.body.letters.map((l: { id: string }) => l.id)).toEqual(ids.slice(15).reverse());
    expect(first.body.letters[0]).toMatchObject({
      reason: 'non-retryable',
      error: 'failure 24',
      deliveries: 2,
    });
    const second = await json(
      await fetch(at(`/api/dead-letters/orders?limit=10&before=${first.body.next}`), { headers: auth }),
    );
    expect(second.body.letters.map((l: { id: string }) => l.id)).toEqual(ids.slice(5, 15).reverse());
    const last = await json(
      await fetch(at(`/api/dead-letters/orders?limit=10&before=${second.body.next}`), { headers: auth }),
    );
    expect(last.body.letters).toHaveLength(5);
    expect(last.body.next).toBeNull();
    const reason = await json(
      await fetch(at('/api/dead-letters/orders?reason=non-retryable'), { headers: auth }),
    );
    expect(reason.body.letters).toHaveLength(5);
    const one = await json(await fetch(at(`/api/dead-letters/orders/${ids[3]}`), { headers: auth }));
    expect(one.body.letter).toMatchObject({ id: ids[3], fields: { type: 'order.paid', payload: '{"n":3}' } });
  });

  it('replays one: back on its source stream with x-replayed-from, gone from the dead letters, logged and counted', async () => {
    const id = ids[2]!;
    const { status, body } = await json(await post('/api/dead-letters/orders/replay', { ids: [id] }));
    expect(status).toBe(200);
    expect(body.replayed).toEqual([{ deadLetterId: id, stream: 'orders', id: expect.any(String) }]);
    expect((await storage.range('orders')).map((e) => e.fields)).toEqual([
      { type: 'order.paid', payload: '{"n":2}', 'x-replayed-from': id },
    ]);
    expect((await storage.range('shared:dead')).map((e) => e.id)).not.toContain(id);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 30,
        msg: 'dashboard replayed dead letters',
        stream: 'orders',
        count: 1,
      }),
    );
    const metrics = await (await fetch(at('/metrics'), { headers: auth })).text();
    expect(metrics).toMatch(
      /streamvisor_dashboard_dead_letter_actions_total\{stream="orders",action="replay",outcome="ok"\} 1/,
    );
    expect(metrics).toMatch(
      /streamvisor_dashboard_dead_letters_touched_total\{stream="orders",action="replay"\} 1/,
    );
  });

  it('purges a reason only with confirm: true', async () => {
    const refused = await json(await post('/api/dead-letters/orders/purge', { reason: 'non-retryable' }));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/"confirm": true/);
    expect(await storage.length('shared:dead')).toBe(26);
    const done = await json(
      await post('/api/dead-letters/orders/purge', { reason: 'non-retryable', confirm: true }),
    );
    expect(done.status).toBe(200);
    expect(done.body.purged).toEqual(ids.slice(20));
    expect(await storage.length('shared:dead')).toBe(21);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'dashboard purged dead letters', purged: 5 }),
    );
  });

  it('refuses bad input with a JSON error that says what to change, touching nothing', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      ['/api/dead-letters/orders/replay', { ids: ['1-0'] }, 404, /no dead letter 1-0 in shared:dead/],
      ['/api/dead-letters/orders/replay', { ids: [auditId] }, 400, /not of stream orders/],
      ['/api/dead-letters/orders/purge', { ids: [ids[0], '2-0'], confirm: true }, 404, /no dead letter 2-0/],
      [
        '/api/dead-letters/orders/replay',
        { reason: 'no-such' },
        404,
        /reasons present: handler-error, non-retryable/,
      ],
      ['/api/dead-letters/orders/replay', { reason: 'missing-type' }, 404, /no dead letter with reason/],
      ['/api/dead-letters/nope/replay', { all: true }, 404, /streams: orders, audit/],
      ['/api/dead-letters/orders/replay', { ids: ['x'] }, 400, /stream ids like/],
      ['/api/dead-letters/orders/replay', { ids: [ids[0]], all: true }, 400, /exactly one of/],
      ['/api/dead-letters/orders/replay', [], 400, /JSON object/],
    ];
    for (const [path, body, status, message] of cases) {
      const result = await json(await post(path, body));
      expect({ path, body, status: result.status }).toEqual({ path, body, status });
      expect(result.body.error).toMatch(message);
    }
    const text = await fetch(at('/api/dead-letters/orders/replay'), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{"all":true}',
    });
    expect(text.status).toBe(415);
    expect(await storage.length('shared:dead')).toBe(26);
    expect(await storage.length('orders')).toBe(0);
  });

  it('needs the token (401), refuses another origin (403) and a read-only dashboard (403)', async () => {
    const target = { ids: [ids[0]] };
    expect((await post('/api/dead-letters/orders/replay', target, {})).status).toBe(401);
    expect((await fetch(at('/api/dead-letters/orders'))).status).toBe(401);
    expect((await fetch(at(`/api/dead-letters/orders?token=${TOKEN}`))).status).toBe(401);
    const foreign = await post('/api/dead-letters/orders/replay', target, {
      ...auth,
      origin: 'https://evil.example',
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const own = await post('/api/dead-letters/orders/replay', target, {
      ...auth,
      origin: new URL(dashboard.url).origin,
    });
    expect(own.status).toBe(200);
    const refused = await json(
      await post('/api/dead-letters/orders/replay', { ids: [ids[1]] }, {}, readOnly),
    );
    expect(refused).toEqual({ status: 403, body: { error: expect.stringMatching(/read-only/) } });
    expect((await json(await fetch(at('/api/dead-letters', readOnly)))).body.readOnly).toBe(true);
    expect(await storage.length('shared:dead')).toBe(25);
  });
});
