// The dashboard's Host guard over real HTTP (issue 25, items 3 and 9): a page on a name that resolves
// to 127.0.0.1 (DNS rebinding) sends matching Origin and Host, so only the Host name tells it apart.
// Without a token, it could list payloads, read /events and purge the dead letters. And a request
// target `new URL` cannot parse answers 400 without an error log.
import { request } from 'node:http';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createRuntime,
  type Dashboard,
  MemoryStreamStorage,
  Router,
  startDashboard,
} from '../../src/index.js';

interface Answer {
  status: number;
  body: string;
}

/** A request with a chosen `Host` header (fetch sets its own from the URL). */
function send(
  base: Dashboard,
  path: string,
  host: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const url = new URL(base.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: init.method ?? 'GET',
        headers: { ...init.headers, host },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        // An event stream never ends: its first chunk is enough.
        res.on('data', (chunk: string) => {
          body += chunk;
          if (res.headers['content-type']?.startsWith('text/event-stream')) {
            resolve({ status: res.statusCode ?? 0, body });
            req.destroy();
          }
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Writes raw bytes as a request and reads the status line of the answer. */
function rawStatus(base: Dashboard, requestText: string): Promise<string> {
  const url = new URL(base.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(requestText));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\r\n')) {
        resolve(text.slice(0, text.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', reject);
  });
}

describe('dashboard Host guard (DNS rebinding)', () => {
  const storage = new MemoryStreamStorage();
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const runtime = createRuntime({
    storage,
    router: new Router(),
    consumers: [{ id: 'orders', stream: 'orders', group: 'billing', deadLetter: { stream: 'orders:dead' } }],
  });
  let open: Dashboard; // no token: the case DNS rebinding attacks
  let proxied: Dashboard;
  let port = '';

  beforeAll(async () => {
    open = await startDashboard(runtime, { port: 0, logger });
    proxied = await startDashboard(runtime, {
      port: 0,
      host: '0.0.0.0',
      allowedHosts: ['Dash.Internal', 'orders.example:4000'],
      logger: pino({ level: 'silent' }), // it warns: a wildcard bind without a token
    });
    port = new URL(open.url).port;
  });
  afterAll(async () => {
    await open.close();
    await proxied.close();
    await runtime.stop();
  });

  it('refuses a foreign Host on every route but the probes, with 403 and a body naming the option', async () => {
    await storage.add('orders:dead', {
      type: 'secret',
      payload: 'card=4242',
      'x-dead-reason': 'handler-error',
    });
    const evil = `evil.example:${port}`;
    for (const path of ['/', '/index.html', '/events', '/metrics', '/assets/app.js', '/api/dead-letters']) {
      const answer = await send(open, path, evil);
      expect(answer.status, path).toBe(403);
      expect(answer.body).toContain('allowedHosts');
      expect(answer.body).toContain('evil.example');
    }
    const list = await send(open, '/api/dead-letters/orders', evil);
    expect(list.status).toBe(403);
    expect(list.body).not.toContain('card=4242');
    // The rebinding page's purge: its Origin matches its Host, so the origin check alone let it through.
    const purge = await send(open, '/api/dead-letters/orders/purge', evil, {
      method: 'POST',
      headers: { origin: `http://${evil}`, 'content-type': 'application/json' },
      body: JSON.stringify({ all: true, confirm: true }),
    });
    expect(purge.status).toBe(403);
    expect(await storage.range('orders:dead')).toHaveLength(1);
    // Another port on a loopback name is another origin too.
    expect((await send(open, '/', 'localhost:1')).status).toBe(403);
  });

  it('answers the loopback names on its own port, case-insensitively', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await send(open, '/', host)).status, host).toBe(200);
    }
    const list = await send(open, '/api/dead-letters', `localhost:${port}`);
    expect(list.status).toBe(200);
  });

  it('opens the event stream for a loopback name and refuses it for another', async () => {
    const own = await startDashboard(runtime, { port: 0 }); // closed here: the stream starts timers
    try {
      const ownPort = new URL(own.url).port;
      const events = await send(own, '/events', `localhost:${ownPort}`);
      expect(events.status).toBe(200);
      expect(events.body).toContain('event: init');
      const evil = await send(own, '/events', `evil.example:${ownPort}`);
      expect(evil.status).toBe(403);
      expect(evil.body).not.toContain('event: init');
    } finally {
      await own.close();
    }
  });

  it('answers the probes whatever the Host (the kubelet sends the pod IP)', async () => {
    const live = await send(open, '/healthz', `10.1.2.3:${port}`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toMatchObject({ live: true });
    const ready = await send(open, '/readyz', 'evil.example');
    expect(JSON.parse(ready.body)).toMatchObject({ ready: false });
  });

  it('answers the names in allowedHosts: a bare name on any port, name:port on that port only', async () => {
    const own = new URL(proxied.url).port;
    expect(proxied.url).toMatch(/^http:\/\/0\.0\.0\.0:/);
    expect((await send(proxied, '/', 'dash.internal')).status).toBe(200);
    expect((await send(proxied, '/', 'dash.internal:8443')).status).toBe(200);
    expect((await send(proxied, '/', 'orders.example:4000')).status).toBe(200);
    expect((await send(proxied, '/', 'orders.example:4001')).status).toBe(403);
    expect((await send(proxied, '/', 'orders.example')).status).toBe(403);
    expect((await send(proxied, '/', `localhost:${own}`)).status).toBe(200);
    expect((await send(proxied, '/', `evil.example:${own}`)).status).toBe(403);
  });

  it('answers IP literals on any port: no DNS name, nothing to rebind (Prometheus scrapes the pod IP)', async () => {
    for (const host of ['10.0.0.5:9464', '10.0.0.5', '[fd00::5]:9464', `0.0.0.0:${port}`]) {
      expect((await send(open, '/metrics', host)).status, host).toBe(200);
    }
    // Names that only look like addresses are names.
    for (const host of ['10.0.0.5.evil.example', '127.1', '[fd00::5', '0x7f000001']) {
      expect((await send(open, '/metrics', host)).status, host).toBe(403);
    }
  });

  it('rejects a bad allowedHosts with a TypeError', async () => {
    await expect(startDashboard(runtime, { port: 0, allowedHosts: [''] })).rejects.toThrow(/allowedHosts/);
    await expect(
      startDashboard(runtime, { port: 0, allowedHosts: 'dash' as unknown as string[] }),
    ).rejects.toThrow(/allowedHosts/);
  });

  it('answers a request target that is not a URL (GET //[) with 400 and no error log', async () => {
    lines.length = 0;
    const status = await rawStatus(open, `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    // Before the Host check too: a malformed target is 400 whatever the Host.
    expect(await rawStatus(open, 'GET //[ HTTP/1.1\r\nHost: evil.example\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(lines.filter((line) => Number(line.level) >= 40)).toEqual([]);
    expect(lines.some((line) => line.msg === 'dashboard request with a malformed target')).toBe(true);
  });
});
