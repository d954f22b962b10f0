import { describe, expect, it } from 'vitest';
import type { StreamFields } from '../../src/storage/stream-storage.js';
import { replayFields } from '../../src/wire/dead-letter-actions.js';
import { deadLetterFields } from '../../src/wire/dead-letter-fields.js';
import { toDeadLetter } from '../../src/wire/dead-letters.js';
import {
  isStreamvisorHeader,
  PARTITION_KEY_FIELD,
  RETRY_ATTEMPT_FIELD,
  STREAMVISOR_HEADERS,
} from '../../src/wire/headers.js';
import { DEFAULT_MAX_PAYLOAD_BYTES, type DecodeResult, decodeMessage } from '../../src/wire/message.js';

const limit = { maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES };

function decode(fields: StreamFields, options = limit, deliveries = 1): DecodeResult {
  return decodeMessage('events', { id: '1700000000000-0', fields, deliveries }, options);
}

function ok(result: DecodeResult) {
  if (!result.ok) throw new Error(`expected a message, got ${result.reason}: ${result.error}`);
  return result.message;
}

describe('decodeMessage', () => {
  it('uses the flat fields but `type` as payload when there is no payload field', () => {
    const fields = { type: 'user.joined', userId: '42', name: 'Ada' };
    const message = ok(decode(fields, limit, 3));
    expect(message).toEqual({
      id: '1700000000000-0',
      type: 'user.joined',
      payload: { userId: '42', name: 'Ada' },
      fields: { type: 'user.joined', userId: '42', name: 'Ada' },
      stream: 'events',
      deliveries: 3,
    });
    expect(message.fields).toBe(fields);
  });

  it('gives an empty object payload for an entry with only a type', () => {
    expect(ok(decode({ type: 'ping' })).payload).toEqual({});
  });

  it('keeps a flat field named __proto__ as data, not as the prototype', () => {
    const fields = JSON.parse('{"type":"t","__proto__":"x"}') as StreamFields;
    const payload = ok(decode(fields)).payload as Record<string, string>;
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.keys(payload)).toEqual(['__proto__']);
    expect(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value).toBe('x');
  });

  it('parses the JSON payload field and keeps the other fields as headers', () => {
    const fields = { type: 'order.created', payload: '{"orderId":"o-1","items":[1,2]}', 'x-tenant': 'acme' };
    const message = ok(decode(fields));
    expect(message.payload).toEqual({ orderId: 'o-1', items: [1, 2] });
    expect(message.fields).toEqual(fields);
    expect(message.fields['x-tenant']).toBe('acme');
  });

  it.each([
    ['null', null],
    ['7', 7],
    ['"text"', 'text'],
    ['[1,"a"]', [1, 'a']],
    ['true', true],
  ])('accepts any JSON value as payload: %s', (raw, expected) => {
    expect(ok(decode({ type: 't', payload: raw })).payload).toEqual(expected);
  });

  it('reports a missing type', () => {
    const result = decode({ payload: '{}' });
    expect(result).toMatchObject({ ok: false, reason: 'missing-type' });
    expect(!result.ok && result.error).toMatch(/no `type` field/);
  });

  it('reports an empty type', () => {
    const result = decode({ type: '', userId: '1' });
    expect(result).toMatchObject({ ok: false, reason: 'missing-type' });
    expect(!result.ok && result.error).toMatch(/empty `type` field/);
  });

  it('refuses an entry the storage marked malformedEncoding before anything else (it may not even have a type)', () => {
    const entry = {
      id: '1-0',
      fields: { payload: '{"a":"f\uFFFDo"}' },
      deliveries: 1,
      malformedEncoding: true as const,
    };
    const result = decodeMessage('events', entry, limit);
    expect(result).toMatchObject({ ok: false, reason: 'malformed-encoding' });
    expect(!result.ok && result.error).toMatch(/not valid UTF-8/);
    // The same fields without the mark (a producer really sent U+FFFD) decode as usual.
    expect(decode({ type: 't', payload: '"f\uFFFDo"' })).toMatchObject({
      ok: true,
      message: { payload: 'f\uFFFDo' },
    });
  });

  it('checks the type before the payload', () => {
    expect(decode({ payload: 'not json' })).toMatchObject({ ok: false, reason: 'missing-type' });
  });

  it.each(['{"a":', 'undefined', '', "{'a':1}"])('reports malformed JSON: %j', (raw) => {
    const result = decode({ type: 't', payload: raw });
    expect(result).toMatchObject({ ok: false, reason: 'malformed-payload' });
    expect(!result.ok && result.error).toMatch(/^Payload is not valid JSON: /);
  });

  it('rejects a payload over the limit with its size and the limit, without parsing it', () => {
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = (...args: Parameters<typeof parse>) => {
      parsed += 1;
      return parse(...args);
    };
    try {
      const result = decode({ type: 't', payload: `"${'x'.repeat(100)}"` }, { maxPayloadBytes: 64 });
      expect(result).toEqual({
        ok: false,
        reason: 'malformed-payload',
        error:
          'Payload is 102 bytes, over the limit of 64 bytes; raise maxPayloadBytes or send a smaller payload',
      });
      expect(parsed).toBe(0);
    } finally {
      JSON.parse = parse;
    }
  });

  it('counts the limit in UTF-8 bytes, not characters', () => {
    const raw = `"${'é'.repeat(20)}"`; // 22 characters, 42 bytes
    expect(decode({ type: 't', payload: raw }, { maxPayloadBytes: 42 }).ok).toBe(true);
    const result = decode({ type: 't', payload: raw }, { maxPayloadBytes: 41 });
    expect(result).toMatchObject({ ok: false, reason: 'malformed-payload' });
    expect(!result.ok && result.error).toContain('42 bytes, over the limit of 41 bytes');
    const emoji = `"${'😀'.repeat(10)}"`; // 22 UTF-16 units, 42 bytes
    expect(decode({ type: 't', payload: emoji }, { maxPayloadBytes: 41 }).ok).toBe(false);
    expect(decode({ type: 't', payload: emoji }, { maxPayloadBytes: 42 }).ok).toBe(true);
  });

  it('accepts a payload exactly at the limit', () => {
    const raw = `"${'x'.repeat(62)}"`;
    expect(ok(decode({ type: 't', payload: raw }, { maxPayloadBytes: 64 })).payload).toBe('x'.repeat(62));
  });

  it('does not apply the payload limit to flat fields', () => {
    const message = ok(decode({ type: 't', big: 'x'.repeat(100) }, { maxPayloadBytes: 10 }));
    expect(message.payload).toEqual({ big: 'x'.repeat(100) });
  });

  it('defaults the limit to 1 MiB', () => {
    expect(DEFAULT_MAX_PAYLOAD_BYTES).toBe(1024 * 1024);
  });
});

describe('headers streamvisor writes (issue 13, point 4)', () => {
  it('stay on `fields` and out of a flat payload', () => {
    const fields = {
      type: 'booking.confirmed',
      user_id: '42',
      'x-tenant': 'acme', // the application's own x- field is data
      'x-retry-attempt': '2',
      'x-partition-key': 'customer-7',
      'x-replayed-from': '1700000000001-0',
      'x-dead-reason': 'handler-error',
      'x-dead-error': 'boom',
      'x-dead-at': '1700000000002',
      'x-dead-note': 'any x-dead-* field',
      'x-source-stream': 'bookings',
      'x-source-id': '1700000000000-0',
      'x-group': 'bot',
      'x-deliveries': '3',
    };
    const message = ok(decode(fields));
    expect(message.payload).toEqual({ user_id: '42', 'x-tenant': 'acme' });
    expect(message.fields).toBe(fields);
  });

  it('give a flat message the same payload on every delivery: first, durable retry, dead letter, replay', () => {
    const first = { type: 'booking.confirmed', user_id: '42' };
    const retried = { ...first, [RETRY_ATTEMPT_FIELD]: '1' };
    const dead = deadLetterFields(
      { id: '1700000000000-0', fields: retried, deliveries: 1 },
      { reason: 'handler-error', error: 'boom', sourceStream: 's', group: 'g', deliveries: 1, at: 1 },
    );
    const replayed = { ...dead, ...replayFields(toDeadLetter({ id: '1700000000009-0', fields: dead })) };
    const payloads = [first, retried, dead, replayed].map((fields) => ok(decode(fields)).payload);
    for (const payload of payloads) expect(payload).toEqual({ user_id: '42' });
  });

  it('are the very names the runtime, publish and the CLI write', () => {
    expect(isStreamvisorHeader(RETRY_ATTEMPT_FIELD)).toBe(true);
    expect(isStreamvisorHeader(PARTITION_KEY_FIELD)).toBe(true);
    const dead = deadLetterFields(
      { id: '1-0', fields: { type: 't' }, deliveries: 1 },
      { reason: 'handler-error', error: 'e', sourceStream: 's', group: 'g', deliveries: 1, at: 1 },
    );
    for (const key of Object.keys(dead)) if (key !== 'type') expect(isStreamvisorHeader(key)).toBe(true);
    const letter = toDeadLetter({ id: '9-0', fields: dead });
    for (const key of Object.keys(replayFields(letter))) {
      if (key !== 'type') expect(isStreamvisorHeader(key), key).toBe(true);
    }
    expect(STREAMVISOR_HEADERS.size).toBe(10);
    expect(isStreamvisorHeader('x-tenant')).toBe(false);
    expect(isStreamvisorHeader('user_id')).toBe(false);
  });

  it('leave a JSON `payload` field alone', () => {
    expect(ok(decode({ type: 't', payload: '{"a":1}', 'x-retry-attempt': '1' })).payload).toEqual({ a: 1 });
  });
});
