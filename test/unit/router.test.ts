import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { Handler, Route } from '../../src/routing/handler.js';
import { Router } from '../../src/routing/router.js';
import type { Message } from '../../src/wire/message.js';

function message(type: string, payload: unknown = {}, fields: Record<string, string> = { type }): Message {
  return { id: '1-0', type, payload, fields, stream: 's', deliveries: 1 };
}

const noop: Handler = () => {};
const names = (routes: readonly Route<unknown>[]) => routes.map((route) => route.name);

describe('Router.on', () => {
  it('keeps routes of a type in registration order, apart from other types', () => {
    const router = new Router()
      .on('a', noop, { name: 'a1' })
      .on('b', noop, { name: 'b1' })
      .on('a', noop, { name: 'a2' });
    expect(names(router.routes('a'))).toEqual(['a1', 'a2']);
    expect(names(router.routes('b'))).toEqual(['b1']);
    expect(router.routes('c')).toEqual([]);
    expect(router.types).toEqual(['a', 'b']);
    expect(router.hasRoutes('a')).toBe(true);
    expect(router.hasRoutes('c')).toBe(false);
  });

  it('stores the handler, filter and schema on the route', () => {
    const handler: Handler = () => 'done';
    const filter = () => true;
    const schema = z.object({ n: z.number() });
    const [route] = new Router().on('a', handler, { filter, schema }).routes('a');
    expect(route?.handler).toBe(handler);
    expect(route?.filter).toBe(filter);
    expect(route?.schema).toBe(schema);
    expect(route?.type).toBe('a');
    expect(Object.isFrozen(route)).toBe(true);
  });

  it('leaves filter and schema off a route that has none', () => {
    const [route] = new Router().on('a', noop).routes('a');
    expect(route).not.toHaveProperty('filter');
    expect(route).not.toHaveProperty('schema');
  });

  it('names routes <type>#<n> by default, unique across routers and stable', () => {
    const type = `default-names-${Math.random()}`;
    const one = new Router().on(type, noop).on(type, noop);
    const two = new Router().on(type, noop);
    const all = [...names(one.routes(type)), ...names(two.routes(type))];
    expect(all).toEqual([`${type}#1`, `${type}#2`, `${type}#3`]);
    new Router().include(one).include(two);
    expect(names(one.routes(type))).toEqual([`${type}#1`, `${type}#2`]);
  });

  it.each([
    [
      'an empty type',
      () => new Router().on('', noop),
      'Expected `type` to be a non-empty string, got an empty string',
    ],
    ['a non-string type', () => new Router().on(7 as unknown as string, noop), 'got number 7'],
    [
      'a missing handler',
      () => new Router().on('a', undefined as unknown as Handler),
      'Expected the handler of "a" to be a function, got undefined',
    ],
    [
      'a non-function filter',
      () => new Router().on('a', noop, { filter: true as unknown as () => boolean }),
      'Expected `filter` of "a" to be a function',
    ],
    [
      'a schema that is not a Standard Schema',
      () => new Router().on('a', noop, { schema: {} as unknown as z.ZodString }),
      'Expected `schema` of "a" to be a Standard Schema',
    ],
    [
      'an empty name',
      () => new Router().on('a', noop, { name: '' }),
      'Expected `name` of "a" to be a non-empty string',
    ],
    [
      'non-object options',
      () => new Router().on('a', noop, 'x' as unknown as object),
      'Expected the options of "a" to be an object',
    ],
  ])('rejects %s with a TypeError', (_, register, text) => {
    expect(register).toThrow(TypeError);
    expect(register).toThrow(text);
  });

  it('rejects a name already used for the type, and keeps the router as it was', () => {
    const router = new Router().on('a', noop, { name: 'same' }).on('b', noop, { name: 'same' });
    expect(() => router.on('a', noop, { name: 'same' })).toThrow(
      'Expected route names of "a" to be unique, got "same" twice',
    );
    expect(names(router.routes('a'))).toEqual(['same']);
  });

  it('rejects a name that clashes in a parent router, and leaves both routers as they were', () => {
    const child = new Router().on('a', noop, { name: 'x' });
    const parent = new Router().include(child);
    const other = new Router();
    parent.include(other);
    expect(() => other.on('a', noop, { name: 'x' })).toThrow(TypeError);
    expect(other.routes('a')).toEqual([]);
    expect(names(parent.routes('a'))).toEqual(['x']);
  });

  it('infers the payload type from the schema', () => {
    new Router<{ db: string }>().on(
      'a',
      (msg, ctx) => {
        expectTypeOf(msg.payload).toEqualTypeOf<{ id: number }>();
        expectTypeOf(ctx.container).toEqualTypeOf<{ db: string }>();
      },
      { schema: z.object({ id: z.number() }) },
    );
    new Router().on('a', (msg) => expectTypeOf(msg.payload).toEqualTypeOf<unknown>());
    new Router().on('a', (msg: Message<{ id: string }>) =>
      expectTypeOf(msg.payload.id).toEqualTypeOf<string>(),
    );
  });
});

describe('Router.include', () => {
  it('interleaves included routes at the include() call', () => {
    const feature = new Router().on('a', noop, { name: 'f1' }).on('a', noop, { name: 'f2' });
    const root = new Router().on('a', noop, { name: 'r1' }).include(feature).on('a', noop, { name: 'r2' });
    expect(names(root.routes('a'))).toEqual(['r1', 'f1', 'f2', 'r2']);
  });

  it('is live: routes added to an included router later are seen', () => {
    const feature = new Router();
    const root = new Router().on('a', noop, { name: 'r1' }).include(feature).on('a', noop, { name: 'r2' });
    expect(names(root.routes('a'))).toEqual(['r1', 'r2']);
    expect(root.hasRoutes('b')).toBe(false);
    feature.on('a', noop, { name: 'f1' }).on('b', noop, { name: 'fb' });
    expect(names(root.routes('a'))).toEqual(['r1', 'f1', 'r2']);
    expect(names(root.routes('b'))).toEqual(['fb']);
    expect(root.types).toEqual(['a', 'b']);
  });

  it('follows nested includes, live at every depth', () => {
    const leaf = new Router().on('a', noop, { name: 'leaf' });
    const middle = new Router().include(leaf).on('a', noop, { name: 'middle' });
    const root = new Router().on('a', noop, { name: 'root' }).include(middle);
    expect(names(root.routes('a'))).toEqual(['root', 'leaf', 'middle']);
    leaf.on('a', noop, { name: 'leaf2' });
    expect(names(root.routes('a'))).toEqual(['root', 'leaf', 'leaf2', 'middle']);
    expect(names(middle.routes('a'))).toEqual(['leaf', 'leaf2', 'middle']);
  });

  it('lets one router be included by separate trees', () => {
    const shared = new Router().on('a', noop, { name: 'shared' });
    const one = new Router().include(shared);
    const two = new Router().include(shared);
    shared.on('a', noop, { name: 'later' });
    expect(names(one.routes('a'))).toEqual(['shared', 'later']);
    expect(names(two.routes('a'))).toEqual(['shared', 'later']);
  });

  it('rejects including itself', () => {
    const router = new Router();
    expect(() => router.include(router)).toThrow(TypeError);
    expect(() => router.include(router)).toThrow('got the router itself');
  });

  it('rejects a direct or indirect cycle, and changes nothing', () => {
    const a = new Router().on('x', noop, { name: 'a' });
    const b = new Router().include(a);
    const c = new Router().include(b);
    expect(() => a.include(b)).toThrow('got a cycle');
    expect(() => a.include(c)).toThrow('got a cycle');
    expect(names(c.routes('x'))).toEqual(['a']);
    expect(a.types).toEqual(['x']);
  });

  it('rejects including a router twice in one tree (diamond)', () => {
    const shared = new Router().on('a', noop, { name: 'shared' });
    const left = new Router().include(shared);
    const right = new Router();
    const root = new Router().include(left).include(right);
    expect(() => root.include(shared)).toThrow('already');
    expect(() => right.include(shared)).toThrow('already');
    expect(() => left.include(shared)).toThrow('already');
    expect(names(root.routes('a'))).toEqual(['shared']);
  });

  it('rejects a router whose route names clash with the tree, and changes nothing', () => {
    const root = new Router().on('a', noop, { name: 'x' });
    const feature = new Router().on('a', noop, { name: 'x' });
    expect(() => root.include(feature)).toThrow('got "x" twice');
    expect(names(root.routes('a'))).toEqual(['x']);
    feature.on('a', noop, { name: 'y' });
    expect(names(root.routes('a'))).toEqual(['x']);
  });

  it('rejects what is not a Router', () => {
    expect(() => new Router().include({} as Router)).toThrow(
      'Expected `router` to be a Router, got an object',
    );
  });
});

describe('Router.routes caching', () => {
  it('returns the same frozen array until the tree changes', () => {
    const feature = new Router().on('a', noop, { name: 'f' });
    const root = new Router().include(feature);
    const first = root.routes('a');
    expect(root.routes('a')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    feature.on('a', noop, { name: 'g' });
    const second = root.routes('a');
    expect(second).not.toBe(first);
    expect(names(second)).toEqual(['f', 'g']);
    expect(root.routes('a')).toBe(second);
    root.on('b', noop);
    expect(root.routes('a')).not.toBe(second);
  });

  it('gives unknown types a shared empty array', () => {
    const router = new Router().on('a', noop);
    expect(router.routes('nope')).toBe(router.routes('other'));
    expect(router.routes('nope')).toEqual([]);
  });
});

describe('Router.match', () => {
  it('returns the routes of the type whose filter passes, in order', () => {
    const router = new Router()
      .on('a', noop, { name: 'all' })
      .on('a', noop, { name: 'acme', filter: (m) => m.fields['x-tenant'] === 'acme' })
      .on('a', noop, { name: 'big', filter: (m) => (m.payload as { n: number }).n > 10 })
      .on('b', noop, { name: 'other' });
    expect(names(router.match(message('a', { n: 1 }, { type: 'a', 'x-tenant': 'acme' })))).toEqual([
      'all',
      'acme',
    ]);
    expect(names(router.match(message('a', { n: 11 })))).toEqual(['all', 'big']);
    expect(router.match(message('c'))).toEqual([]);
  });

  it('applies filters of included routers', () => {
    const feature = new Router().on('a', noop, { name: 'f', filter: () => false });
    const root = new Router().include(feature).on('a', noop, { name: 'r' });
    expect(names(root.match(message('a')))).toEqual(['r']);
  });

  it('returns a read-only array: a caller cannot change the cache through it', () => {
    const router = new Router().on('a', noop, { name: 'x' });
    const matched = router.match(message('a')) as Route<unknown>[];
    expect(() => matched.pop()).toThrow(TypeError);
    expect(names(router.match(message('a')))).toEqual(['x']);
  });

  it('leaves the cached routes intact when a filter rejects', () => {
    const router = new Router()
      .on('a', noop, { name: 'x' })
      .on('a', noop, { name: 'y', filter: () => false })
      .on('a', noop, { name: 'z' });
    expect(names(router.match(message('a')))).toEqual(['x', 'z']);
    expect(names(router.routes('a'))).toEqual(['x', 'y', 'z']);
  });

  it('propagates an error thrown by a filter', () => {
    const router = new Router().on('a', noop, {
      filter: () => {
        throw new Error('filter bug');
      },
    });
    expect(() => router.match(message('a'))).toThrow('filter bug');
  });
});
