import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NonRetryableError } from '../../src/errors/non-retryable-error.js';
import { Router } from '../../src/routing/router.js';
import { validatePayload } from '../../src/routing/schema.js';
import type { Message } from '../../src/wire/message.js';

function message(payload: unknown): Message {
  return {
    id: '5-0',
    type: 'order.created',
    payload,
    fields: { type: 'order.created' },
    stream: 's',
    deliveries: 1,
  };
}

function routeWith<P>(schema?: StandardSchemaV1<unknown, P>) {
  const router = new Router<{ db: string }>().on('order.created', () => {}, {
    name: 'invoice',
    ...(schema === undefined ? {} : { schema }),
  });
  const [route] = router.routes('order.created');
  if (route === undefined) throw new Error('no route');
  return route;
}

const order = z.object({
  orderId: z.string(),
  items: z.array(z.object({ sku: z.string(), qty: z.coerce.number().int().positive() })),
  note: z.string().default('none'),
});

describe('validatePayload', () => {
  it('returns the same message when the route has no schema', async () => {
    const input = message({ anything: true });
    await expect(validatePayload(routeWith(), input)).resolves.toBe(input);
  });

  it('returns a message carrying the schema output', async () => {
    const input = message({ orderId: 'o-1', items: [{ sku: 'a', qty: '2' }] });
    const output = await validatePayload(routeWith(order), input);
    expect(output).toEqual({
      ...input,
      payload: { orderId: 'o-1', items: [{ sku: 'a', qty: 2 }], note: 'none' },
    });
    expect(output).not.toBe(input);
    expect(input.payload).toEqual({ orderId: 'o-1', items: [{ sku: 'a', qty: '2' }] });
  });

  it('throws a NonRetryableError listing every issue with its path', async () => {
    const input = message({
      items: [
        { sku: 'a', qty: 1 },
        { sku: 3, qty: -1 },
      ],
    });
    const error = await validatePayload(routeWith(order), input).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NonRetryableError);
    expect(error).toMatchObject({ code: 'NON_RETRYABLE', retriable: false });
    const text = (error as Error).message;
    expect(text).toMatch(
      /^Payload of "order\.created" \(entry 5-0\) does not match the schema of route "invoice": /,
    );
    expect(text).toMatch(/orderId: Invalid input: expected string, received undefined/);
    expect(text).toMatch(/items\[1\]\.sku: Invalid input: expected string, received number/);
    expect(text).toMatch(/items\[1\]\.qty: Too small/);
  });

  it('reports issues at the root as (root)', async () => {
    await expect(validatePayload(routeWith(order), message(null))).rejects.toThrow(
      /: \(root\): Invalid input: expected object, received null$/,
    );
  });

  it('lists at most 10 issues and counts the rest', async () => {
    const many = z.object(Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`f${i}`, z.string()])));
    const error = (await validatePayload(routeWith(many), message({})).catch(
      (caught: unknown) => caught,
    )) as Error;
    expect(error.message.match(/: Invalid input/g)).toHaveLength(10);
    expect(error.message).toMatch(/; and 3 more$/);
  });

  it('awaits an async schema', async () => {
    const asyncSchema = z.string().refine(async (value) => value.startsWith('o-'), 'must start with o-');
    await expect(validatePayload(routeWith(asyncSchema), message('o-7'))).resolves.toMatchObject({
      payload: 'o-7',
    });
    await expect(validatePayload(routeWith(asyncSchema), message('x'))).rejects.toThrow(
      /"invoice": \(root\): must start with o-$/,
    );
  });

  it('formats object path segments and symbol keys of other Standard Schema libraries', async () => {
    const symbol = Symbol('k');
    const custom: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({
          issues: [
            { message: 'bad', path: [{ key: 'a' }, { key: 0 }, 'b'] },
            { message: 'odd', path: [symbol] },
          ],
        }),
      },
    };
    await expect(validatePayload(routeWith(custom), message({}))).rejects.toThrow(
      /a\[0\]\.b: bad; \[Symbol\(k\)\]: odd$/,
    );
  });

  it('rejects with the error of a schema that throws, not a NonRetryableError', async () => {
    const broken: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw new RangeError('schema bug');
        },
      },
    };
    await expect(validatePayload(routeWith(broken), message({}))).rejects.toBeInstanceOf(RangeError);
  });
});
