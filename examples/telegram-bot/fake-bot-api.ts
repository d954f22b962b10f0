import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received: the Bot API method and its JSON parameters. */
export interface BotApiCall {
  method: string;
  params: Record<string, unknown>;
}

/** A Telegram update as the fake hands it out (`update_id` is assigned by the fake). */
export type FakeUpdate = Record<string, unknown> & { update_id: number };

/** The longest a `getUpdates` long poll is held when no update is queued, ms (Telegram: `timeout` s). */
const HOLD_MS = 200;

/**
 * A fake Telegram Bot API server on 127.0.0.1 for tests: answers `getMe`, `deleteWebhook`,
 * `getUpdates` (long polling: held up to 200 ms, or until an update is queued) and `sendMessage`,
 * and records every call. Point grammY at it with `new Bot(token, { client: { apiRoot: fake.apiRoot } })`.
 *
 * @example
 * const fake = await startFakeBotApi('123:test')
 * fake.queueMessage(2002, '/status')
 * await fake.waitFor((call) => call.method === 'sendMessage')
 * await fake.close()
 */
export async function startFakeBotApi(token: string): Promise<FakeBotApi> {
  const fake = new FakeBotApi(token);
  await fake.listen();
  return fake;
}

export class FakeBotApi {
  readonly token: string;
  readonly calls: BotApiCall[] = [];
  readonly bot = { id: 4242, is_bot: true, first_name: 'Test Bot', username: 'streamvisor_test_bot' };
  readonly #server = createServer((req, res) => void this.#handle(req, res));
  #updates: FakeUpdate[] = [];
  #nextUpdateId = 1;
  #nextMessageId = 1;
  #pollers = new Set<() => void>();
  #watchers = new Set<() => void>();

  constructor(token: string) {
    this.token = token;
  }

  /** Pass as grammY's `client.apiRoot`: `http://127.0.0.1:<port>`. */
  get apiRoot(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
  }

  /** Queue a text message from a private chat (a `/command` gets its bot_command entity). Returns its update_id. */
  queueMessage(chatId: number, text: string): number {
    const command = /^\/\w+/.exec(text);
    const update_id = this.#nextUpdateId++;
    this.#updates.push({
      update_id,
      message: {
        message_id: this.#nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: 'private', first_name: 'Operator' },
        from: { id: chatId, is_bot: false, first_name: 'Operator' },
        text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
      },
    });
    for (const wake of this.#pollers) wake();
    return update_id;
  }

  /** Calls of one method, in order. */
  callsOf(method: string): BotApiCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Resolves with the first recorded call that matches (one made earlier included). */
  waitFor(match: (call: BotApiCall) => boolean, timeoutMs = 5000): Promise<BotApiCall> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.calls.find(match);
        if (found === undefined) return;
        clearTimeout(timer);
        this.#watchers.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        this.#watchers.delete(check);
        reject(new Error(`No matching Bot API call within ${timeoutMs} ms; calls: ${this.#summary()}`));
      }, timeoutMs);
      this.#watchers.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    for (const wake of this.#pollers) wake();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #summary(): string {
    return this.calls.map((call) => `${call.method}${JSON.stringify(call.params)}`).join(', ');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const params = body === '' ? {} : (JSON.parse(body) as Record<string, unknown>);
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (match === null || match[1] !== this.token) {
      return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const method = match[2] as string;
    this.calls.push({ method, params });
    for (const check of this.#watchers) check();
    switch (method) {
      case 'getMe':
        return reply(res, 200, { ok: true, result: this.bot });
      case 'deleteWebhook':
        return reply(res, 200, { ok: true, result: true });
      case 'getUpdates':
        return reply(res, 200, { ok: true, result: await this.#poll(res, params) });
      case 'sendMessage':
        return reply(res, 200, {
          ok: true,
          result: {
            message_id: this.#nextMessageId++,
            date: Math.floor(Date.now() / 1000),
            chat: { id: params.chat_id, type: 'private', first_name: 'Operator' },
            from: this.bot,
            text: params.text,
          },
        });
      default:
        return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }

  /** Telegram's getUpdates: confirm (drop) updates below `offset`, then wait for one up to the hold. */
  async #poll(res: ServerResponse, params: Record<string, unknown>): Promise<FakeUpdate[]> {
    const offset = typeof params.offset === 'number' ? params.offset : 0;
    this.#updates = this.#updates.filter((update) => update.update_id >= offset);
    const limit = typeof params.limit === 'number' ? params.limit : 100;
    const timeout = typeof params.timeout === 'number' ? params.timeout : 0;
    if (this.#updates.length === 0 && timeout > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#pollers.delete(wake);
          res.off('close', wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(HOLD_MS, timeout * 1000));
        this.#pollers.add(wake);
        res.once('close', wake); // grammY aborts the pending poll on bot.stop()
      });
    }
    return this.#updates.slice(0, limit);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
