import type { Message } from '../wire/message.js';
import { type BatchHandler, type BatchOptions, batchSettings, singleMessage } from './batch.js';
import type { Handler, HandlerOptions, Route } from './handler.js';
import { checkRoute, describe } from './route-checks.js';

const NO_ROUTES: readonly never[] = Object.freeze([]);

/** Default route names count registrations per type across the process, so they never collide. */
const registrations = new Map<string, number>();

/**
 * Handlers by message type, with filters and included routers (feature modules).
 *
 * - Routes of a type run in registration order. An included router's routes take the place of its
 *   `include()` call among this router's own `on()` calls, recursively.
 * - Inclusion is live: routes added to an included router later are seen at once. A router may not
 *   include itself, make a cycle, or appear twice in one tree (its handlers would run twice).
 * - Route names are unique among the routes of a type in a tree, and a type with a batch handler
 *   (`batch()`) has no other; `on()`, `batch()` and `include()` throw a `TypeError` (and change
 *   nothing) when they would break that.
 * - `routes(type)` is cached per type until any router in the tree changes. Unknown types are not
 *   cached, so a stream full of random types cannot grow memory.
 *
 * @typeParam C - the container handlers receive as `ctx.container`.
 * @example
 * const billing = new Router<Services>()
 *   .on('invoice.paid', sendReceipt)
 *   .on('order.created', createInvoice, { schema: z.object({ orderId: z.string() }) })
 * const router = new Router<Services>().on('order.created', reserveStock).include(billing)
 * router.routes('order.created').map((route) => route.name) // ['order.created#1', 'order.created#2']
 */
export class Router<C = unknown> {
  /** Own routes and included routers, in call order. */
  readonly #entries: (Route<C> | Router<C>)[] = [];
  /** Routers that include this one: they drop their caches when this one changes. */
  readonly #parents = new Set<Router<C>>();
  readonly #cache = new Map<string, readonly Route<C>[]>();
  #types: ReadonlySet<string> | undefined;
  #maxBatchSize: number | undefined;

  /**
   * Registers `handler` for messages of `type`. See `HandlerOptions` for `filter`, `schema`, `name`.
   *
   * @typeParam P - the payload type the handler receives; inferred from `options.schema`.
   * @throws TypeError when `type` is empty, `handler` is not a function, an option has the wrong
   *   type, or `options.name` is already used by a route of `type` in this router's tree.
   * @example
   * router.on('user.joined', async (message, ctx) => {
   *   await ctx.container.greeter.greet(message.payload.userId)
   * }, { schema: z.object({ userId: z.number() }) })
   */
  on<P>(type: string, handler: Handler<C, P>, options?: HandlerOptions<P>): this {
    checkRoute(type, handler, 'handler');
    const { filter, schema, name } = checkOptions(type, options);
    const route: Route<C> = Object.freeze({
      type,
      name: name ?? defaultName(type),
      // The payload type is a promise made by `schema` (checked before the call) or by the caller.
      handler: handler as Handler<C>,
      ...(filter === undefined ? {} : { filter }),
      ...(schema === undefined ? {} : { schema }),
    });
    this.#entries.push(route);
    this.#commit([type], () => this.#entries.pop());
    return this;
  }

  /**
   * Registers a batch handler for messages of `type`: it gets up to `size` of them per call, in stream
   * order, waiting at most `waitMs` for a batch to fill (docs/contract.md, "Batches"). A batch type has
   * this one handler: `on()` and `batch()` throw when a type would get a batch handler and another.
   *
   * @typeParam P - the payload type the handler receives (unchecked).
   * @throws TypeError for a bad argument, a taken name, or a `type` that has a handler already.
   * @throws RangeError when `size` is outside 1–10 000 or `waitMs` outside 0–60 000.
   * @example
   * router.batch('metric.sampled', async (messages, ctx) => {
   *   await ctx.container.tsdb.insert(messages.map((m) => m.payload))
   * }, { size: 100, waitMs: 20 })
   */
  batch<P>(type: string, handler: BatchHandler<C, P>, options?: BatchOptions): this {
    checkRoute(type, handler, 'batch handler');
    const batch = batchSettings(type, handler as BatchHandler<C>, options);
    const name = checkOptions(type, { ...(options?.name === undefined ? {} : { name: options.name }) }).name;
    const route = { type, name: name ?? defaultName(type), handler: singleMessage(batch.handler), batch };
    this.#entries.push(Object.freeze(route));
    this.#commit([type], () => this.#entries.pop());
    return this;
  }

  /**
   * Includes every route of `router`, now and later, at this point of the registration order.
   *
   * @throws TypeError when `router` is not a Router, is this router, includes this router (a cycle),
   *   is already in this router's tree, or brings a route name that is already taken.
   * @example
   * const root = new Router<Services>().include(billingRouter).include(shippingRouter)
   */
  include(router: Router<C>): this {
    if (!(router instanceof Router)) {
      throw new TypeError(`Expected \`router\` to be a Router, got ${describe(router)}`);
    }
    if (router === this) throw new TypeError('Expected `router` to be another Router, got the router itself');
    const added = router.#descendants();
    if (added.has(this)) {
      throw new TypeError(
        'Expected `router` not to include this router, got a cycle; include in one direction only',
      );
    }
    for (const ancestor of this.#selfAndAncestors()) {
      for (const descendant of ancestor.#descendants()) {
        if (added.has(descendant)) {
          throw new TypeError(
            'Expected `router` not to be in this router tree already, got it (or a router it includes) twice; include it once',
          );
        }
      }
    }
    this.#entries.push(router);
    router.#parents.add(this);
    this.#commit(router.types, () => {
      this.#entries.pop();
      router.#parents.delete(this);
    });
    return this;
  }

  /**
   * Every route for `type` in registration order, filters not applied. The array is frozen and
   * shared: cached until a router in the tree changes.
   *
   * @example
   * if (router.routes(message.type).length === 0) await deadLetter(message, 'unrouted')
   */
  routes(type: string): readonly Route<C>[] {
    const cached = this.#cache.get(type);
    if (cached !== undefined) return cached;
    if (!this.#typeSet().has(type)) return NO_ROUTES;
    const routes: Route<C>[] = [];
    this.#collect(type, routes);
    const names = new Set<string>();
    for (const route of routes) {
      if (names.has(route.name)) {
        throw new TypeError(
          `Expected route names of "${type}" to be unique, got "${route.name}" twice; pass another \`name\` to router.on()`,
        );
      }
      names.add(route.name);
    }
    if (routes.length > 1 && routes.some((route) => route.batch !== undefined)) {
      throw new TypeError(
        `Expected "${type}" to have one handler when it has a batch handler, got ${routes.length}; do all the work in the batch handler, or give the other messages another type`,
      );
    }
    const frozen = Object.freeze(routes);
    this.#cache.set(type, frozen);
    return frozen;
  }

  /**
   * The routes for `message.type` whose filter accepts `message`, in registration order (read-only;
   * the cached routes themselves when every filter accepts). A filter that throws is not caught: the error propagates, and the runtime treats it as
   * a failure of the message's handling (retried, then dead-lettered), since it is a bug in code,
   * not proof that the message is unwanted.
   *
   * @example
   * const routes = router.match(message)
   * await Promise.all(routes.map((route) => route.handler(message, ctx)))
   */
  match(message: Message): readonly Route<C>[] {
    const routes = this.routes(message.type);
    // Per message: without filters the cached (frozen) routes are the answer; no array is allocated.
    let matched: Route<C>[] | null = null;
    // An indexed loop: `routes.entries()` with destructuring allocated an iterator and a pair per
    // route, ~140 bytes per message (a heap sampling of a 200,000-message drain).
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i] as Route<C>;
      if (route.filter === undefined || route.filter(message)) {
        matched?.push(route);
      } else {
        matched ??= routes.slice(0, i);
      }
    }
    return matched ?? routes;
  }

  /** Whether any route (filters not applied) handles `type`. @example router.hasRoutes('order.created') */
  hasRoutes(type: string): boolean {
    return this.#typeSet().has(type);
  }

  /** The batch route of `type` (made by `batch()`), if it has one. @example router.batchRoute('metric.sampled')?.batch?.size */
  batchRoute(type: string): Route<C> | undefined {
    const route = this.routes(type)[0];
    return route?.batch === undefined ? undefined : route;
  }

  /** The largest `size` among this tree's batch routes; 0 when it has none. @example router.maxBatchSize */
  get maxBatchSize(): number {
    this.#maxBatchSize ??= [...this.#typeSet()].reduce(
      (m, t) => Math.max(m, this.batchRoute(t)?.batch?.size ?? 0),
      0,
    );
    return this.#maxBatchSize;
  }

  /** Every type with at least one route in this tree, in order of first registration (a new array). @example router.types */
  get types(): string[] {
    return [...this.#typeSet()];
  }

  #collect(type: string, into: Route<C>[]): void {
    for (const entry of this.#entries) {
      if (entry instanceof Router) entry.#collect(type, into);
      else if (entry.type === type) into.push(entry);
    }
  }

  #typeSet(): ReadonlySet<string> {
    if (this.#types === undefined) {
      const types = new Set<string>();
      for (const entry of this.#entries) {
        if (entry instanceof Router) for (const type of entry.#typeSet()) types.add(type);
        else types.add(entry.type);
      }
      this.#types = types;
    }
    return this.#types;
  }

  #invalidate(): void {
    this.#cache.clear();
    this.#types = undefined;
    this.#maxBatchSize = undefined;
    for (const parent of this.#parents) parent.#invalidate();
  }

  /** Applies a change already made: drops caches up the tree, checks names, undoes it on a clash. */
  #commit(types: readonly string[], undo: () => void): void {
    this.#invalidate();
    try {
      for (const router of this.#selfAndAncestors()) for (const type of types) router.routes(type);
    } catch (error) {
      undo();
      this.#invalidate();
      throw error;
    }
  }

  #selfAndAncestors(): Set<Router<C>> {
    const found = new Set<Router<C>>([this]);
    for (const router of found) for (const parent of router.#parents) found.add(parent);
    return found;
  }

  #descendants(): Set<Router<C>> {
    const found = new Set<Router<C>>([this]);
    for (const router of found) {
      for (const entry of router.#entries) if (entry instanceof Router) found.add(entry);
    }
    return found;
  }
}

function checkOptions<P>(type: string, options: HandlerOptions<P> | undefined): HandlerOptions<P> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`Expected the options of "${type}" to be an object, got ${describe(options)}`);
  }
  const { filter, schema, name } = options;
  if (filter !== undefined && typeof filter !== 'function') {
    throw new TypeError(`Expected \`filter\` of "${type}" to be a function, got ${describe(filter)}`);
  }
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function') {
    throw new TypeError(
      `Expected \`schema\` of "${type}" to be a Standard Schema (with ~standard.validate), got ${describe(schema)}`,
    );
  }
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new TypeError(`Expected \`name\` of "${type}" to be a non-empty string, got ${describe(name)}`);
  }
  return options;
}

function defaultName(type: string): string {
  const n = (registrations.get(type) ?? 0) + 1;
  registrations.set(type, n);
  return `${type}#${n}`;
}
