import type { ServerResponse } from 'node:http';

/** One Server-Sent Events message; `data` is JSON (one line: JSON.stringify escapes newlines). */
export function sseMessage(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A client that lets this much output pile up unread is dropped (it reconnects and gets a fresh init). */
const MAX_BUFFERED_BYTES = 1 << 20;

/**
 * The open event streams of a dashboard. Heartbeat comments keep idle proxies from closing them;
 * `onCount` reports how many are open, so the sampler runs only while someone watches.
 */
export class SseHub {
  #clients = new Set<ServerResponse>();
  #heartbeat: NodeJS.Timeout | null = null;
  #onCount: (count: number) => void;

  constructor(onCount: (count: number) => void) {
    this.#onCount = onCount;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Turn `res` into an event stream that starts with `first` (already formatted messages). */
  open(res: ServerResponse, first: string): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: 2000\n\n${first}`);
    this.#clients.add(res);
    res.on('close', () => {
      if (this.#clients.delete(res)) this.#changed();
    });
    this.#changed();
  }

  broadcast(message: string): void {
    for (const res of this.#clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(message);
    }
  }

  /** End every stream (the dashboard is closing). */
  closeAll(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#changed();
  }

  #changed(): void {
    if (this.#clients.size > 0 && !this.#heartbeat) {
      this.#heartbeat = setInterval(() => this.broadcast(': ping\n\n'), 15_000);
      this.#heartbeat.unref();
    } else if (this.#clients.size === 0 && this.#heartbeat) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = null;
    }
    this.#onCount(this.#clients.size);
  }
}
