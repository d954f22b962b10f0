// Redis Cluster's key → slot mapping (cluster spec, "Keys distribution model"), to check before a
// multi-key script whether its keys can go together: a CROSSSLOT error after the handler ran would
// leave its message pending forever.

const encoder = new TextEncoder();
let table: Uint16Array | undefined;

/**
 * The hash tag Redis Cluster hashes a key by: the text between the first `{` and the first `}` after
 * it, when that text is not empty; else `undefined` (the whole key is hashed).
 *
 * @example
 * hashTag('orders:{7}') // '7'
 * hashTag('orders')     // undefined
 */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0) of `bytes`, the checksum Redis uses. */
function crc16(bytes: Uint8Array): number {
  table ??= Uint16Array.from({ length: 256 }, (_, byte) => {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    return crc & 0xffff;
  });
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (table[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/**
 * The Redis Cluster slot (0 … 16383) of a key: CRC16 of its hash tag (or of the whole key without one)
 * modulo 16384, as `CLUSTER KEYSLOT` answers.
 *
 * @example
 * keySlot('foo') // 12182
 * keySlot('{user1000}.following') === keySlot('{user1000}.followers') // true
 */
export function keySlot(key: string): number {
  return crc16(encoder.encode(hashTag(key) ?? key)) & 16383;
}
