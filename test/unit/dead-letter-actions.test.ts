// The dead-letter code shared by `streamvisor dlq` and the dashboard, on the in-memory storage.
import { describe, expect, it } from 'vitest';
import { MemoryStreamStorage, type StreamFields } from '../../src/index.js';
import { compareIds } from '../../src/storage/validate.js';
import {
  DeadLetterTargetError,
  ReplayError,
  replayDeadLetters,
  resolveDeadLetters,
} from '../../src/wire/dead-letter-actions.js';
import { readDeadLetterPage } from '../../src/wire/dead-letter-page.js';
import { PREVIEW_VALUE_BYTES } from '../../src/wire/dead-letters.js';

const letter = (n: number, reason = 'handler-error', source = 'orders'): StreamFields => ({
  type: 't',
  payload: `{"n":${n}}`,
  'x-dead-reason': reason,
  'x-source-stream': source,
});

describe('dead-letter reading and actions', () => {
  it('orders stream ids numerically, not as text', () => {
    expect(compareIds('9-0', '10-0')).toBeLessThan(0);
    expect(compareIds('10-2', '10-10')).toBeLessThan(0);
    expect(compareIds('10-1', '10-1')).toBe(0);
    expect(compareIds('1700000000001', '1700000000000-5')).toBeGreaterThan(0);
  });

  it('pages newest first across XRANGE pages, counting every reason of the source stream', async () => {
    const storage = new MemoryStreamStorage();
    const ids: string[] = [];
    for (let n = 0; n < 1200; n++) ids.push(await storage.add('d', letter(n, n % 3 === 0 ? 'a' : 'b')));
    await storage.add('d', letter(9999, 'a', 'elsewhere'));
    const first = await readDeadLetterPage(storage, 'd', { sourceStream: 'orders', limit: 7 });
    expect(first.total).toBe(1200);
    expect(first.counts).toEqual({ a: 400, b: 800 });
    expect(first.letters.map((l) => l.id)).toEqual(ids.slice(-7).reverse());
    const middle = await readDeadLetterPage(storage, 'd', {
      sourceStream: 'orders',
      limit: 5,
      before: ids[600]!,
    });
    expect(middle.letters.map((l) => l.id)).toEqual(ids.slice(595, 600).reverse());
    expect(middle.next).toBe(ids[595]);
    const reasonA = await readDeadLetterPage(storage, 'd', { sourceStream: 'orders', reason: 'a', limit: 2 });
    expect(reasonA.letters.map((l) => l.id)).toEqual([ids[1197], ids[1194]]);
    const oldest = await readDeadLetterPage(storage, 'd', { limit: 5, before: ids[3]! });
    expect(oldest.letters).toHaveLength(3);
    expect(oldest.next).toBeNull();
  });

  it('refuses a target naming a missing id before touching anything', async () => {
    const storage = new MemoryStreamStorage();
    const id = await storage.add('d', letter(1));
    const refused = resolveDeadLetters(storage, 'd', { ids: [id, '5-0'] }, { action: 'purge' });
    await expect(refused).rejects.toThrow(DeadLetterTargetError);
    await expect(refused).rejects.toThrow(/no dead letter 5-0 in d; nothing purged/);
    expect(await resolveDeadLetters(storage, 'd', { reason: 'nope' }, { action: 'replay' })).toEqual([]);
  });

  it('a replay that cannot write back stops with what went back; the rest stays dead', async () => {
    const storage = new MemoryStreamStorage();
    for (const n of [1, 2, 3]) await storage.add('d', letter(n));
    const letters = await resolveDeadLetters(storage, 'd', { all: true }, { action: 'replay' });
    let adds = 0;
    const failing = {
      add: (stream: string, fields: StreamFields) => {
        if (++adds === 2) return Promise.reject(new Error('OOM command not allowed'));
        return storage.add(stream, fields);
      },
      delete: (stream: string, ids: readonly string[]) => storage.delete(stream, ids),
      range: storage.range.bind(storage),
    };
    const error = await replayDeadLetters(failing, 'd', letters, 'orders').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayError);
    const replayError = error as ReplayError;
    expect(replayError.message).toMatch(
      /cannot write dead letter .* back to orders: OOM.*1 replayed, 2 left in d/,
    );
    expect(replayError.replayed.map((r) => r.deadLetterId)).toEqual([letters[0]?.id]);
    expect(replayError.remaining).toEqual([letters[1]?.id, letters[2]?.id]);
    expect((await storage.range('d')).map((e) => e.id)).toEqual(replayError.remaining);
    expect(await storage.length('orders')).toBe(1);
  });

  it('lists previews of big letters, yet a replay writes the whole original back', async () => {
    const storage = new MemoryStreamStorage();
    const big = JSON.stringify({ blob: 'é'.repeat(300_000) }); // 600 KiB of 2-byte characters
    const fields = { ...letter(1), payload: big, 'x-note': 'kept' };
    await storage.add('d', fields);
    const [listed] = await resolveDeadLetters(storage, 'd', { all: true }, { action: 'replay' });
    // 9 ASCII bytes, then 2-byte characters: the cut falls inside one, so it stops a byte short.
    const cut = listed?.fields.payload ?? '';
    expect(Buffer.byteLength(cut)).toBe(PREVIEW_VALUE_BYTES - 1);
    expect(big.startsWith(cut)).toBe(true);
    expect(listed?.truncated).toEqual({ payload: Buffer.byteLength(big) });
    expect(listed?.bytes).toBe(Buffer.byteLength(Object.entries(fields).flat().join('')));
    await replayDeadLetters(storage, 'd', listed ? [listed] : [], 'orders');
    const [replayed] = await storage.range('orders');
    expect(replayed?.fields).toEqual({
      type: 't',
      payload: big,
      'x-note': 'kept',
      'x-replayed-from': listed?.id,
    });
    expect(await storage.length('d')).toBe(0);
  });
});
