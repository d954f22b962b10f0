/**
 * What streamvisor uses of an ioredis client: a `Redis` or a `Cluster` of ioredis `^5.11.0 || ^6.0.0`, created
 * however the application likes (RESP2 or RESP3, `replyMapping` `'legacy'` or `'resp3'`,
 * `stringNumbers`). A structural type, so clients of either major version fit without a cast.
 *
 * Why no protocol is required: the reply parsers (redis-replies.ts) read both shapes, RESP3 maps
 * as flat `[key, value, …]` arrays or as objects. Duplicating the client with `protocol: 2` instead
 * would open a second connection per storage next to the application's, and would not work on
 * ioredis 5 (which has no `protocol` option).
 *
 * @example
 * const storage = new RedisStreamStorage(new Redis())   // ioredis 6: RESP3 by default
 * const onCluster = new RedisStreamStorage(new Cluster([{ host: '127.0.0.1', port: 7000 }]))
 */
export interface RedisClient {
  /** `'wait'`, `'connecting'`, `'ready'`, `'end'`, … */
  readonly status: string;
  /** `true` for a `Cluster`. */
  readonly isCluster: boolean;
  /** The options it was created with (a Cluster's per-node ones under `redisOptions`). */
  readonly options: object;
  call(command: string, ...args: (string | number | Uint8Array)[]): Promise<unknown>;
  /** `call` with Buffer replies (arguments may be bytes too): reads the bytes of entries that are not UTF-8 (absent: they are used as decoded). */
  callBuffer?(command: string, ...args: (string | number | Uint8Array)[]): Promise<unknown>;
  /** `Redis#duplicate(override)` or `Cluster#duplicate(startupNodes, override)`. */
  duplicate(first?: object, second?: object): RedisClient;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: (value: unknown) => void): unknown;
  once(event: string, listener: (value: unknown) => void): unknown;
  off(event: string, listener: (value: unknown) => void): unknown;
}
