import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** Options of `new RedisStreamStorage(client, options)`. */
export interface RedisStreamStorageOptions {
  /**
   * How long past its `blockMs` a blocking read may take before its connection is dropped and the read
   * rejects with `ConnectionError` code `READ_TIMEOUT` (ms, ≥ 1).
   * @default 1000
   */
  watchdogMarginMs?: number;
  /** Where connection trouble is logged (`warn`/`debug`). Passwords never appear in it. @default none */
  logger?: Pick<Logger, 'warn' | 'debug'>;
}

/** Options of `RedisStreamStorage.fromUrl(url, options)`. */
export interface RedisStreamStorageUrlOptions extends RedisStreamStorageOptions {
  /** Timeout of each non-blocking command on the storage's own connection (ms, ≥ 1). @default 5000 */
  commandTimeoutMs?: number;
  /** Extra ioredis options (e.g. `tls`, `connectionName`) for every connection created (which speaks RESP2). */
  redis?: RedisOptions;
}
