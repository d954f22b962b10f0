import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';

/**
 * One row of a transition table: `[state, event, guard, target, actions]`.
 *
 * - `state`: the key path of the state that declares the transition (`a.b`), or `(any)` for the root;
 * - `event`: the event type, shortened: `done:<invoke id>`, `error:<invoke id>`, `after:<delay>`,
 *   `always`, `done.state:<state id>`;
 * - `guard`: the guard's name (`name(params…)` with params), `inline` for an inline function, `` for none;
 * - `target`: the target state keys (`a.b`, comma-separated when several), `` when there is none
 *   (an internal transition), with ` (reenter)` when it re-enters its source;
 * - `actions`: the action names, comma-separated: named actions as written (`report(backoff)` with
 *   params), built-in action creators by kind (`assign`, `enqueueActions`, `raise`, …), `inline` for an
 *   inline function.
 */
export type TransitionRow = readonly [
  state: string,
  event: string,
  guard: string,
  target: string,
  actions: string,
];

function shortEvent(eventType: string): string {
  const prefixes: [string, string][] = [
    ['xstate.done.actor.', 'done:'],
    ['xstate.error.actor.', 'error:'],
    ['xstate.done.state.', 'done.state:'],
    ['xstate.snapshot.', 'snapshot:'],
  ];
  for (const [long, short] of prefixes)
    if (eventType.startsWith(long)) return short + eventType.slice(long.length);
  // `xstate.after.<delay>.<state id>`: the delay name, which never contains a dot here.
  if (eventType.startsWith('xstate.after.')) return `after:${eventType.slice(13).split('.')[0]}`;
  return eventType;
}

function describeParams(params: unknown): string {
  if (params === undefined) return '';
  // Params computed from the event (`params: ({ event }) => …`).
  if (typeof params === 'function') return '(event)';
  if (typeof params !== 'object' || params === null) return `(${String(params)})`;
  return `(${Object.values(params).map(String).join(',')})`;
}

type Named = string | { type: string; params?: unknown } | ((...args: never[]) => unknown);

function describeNamed(item: Named | undefined): string {
  if (item === undefined) return '';
  if (typeof item === 'string') return item;
  if (typeof item === 'function') {
    const kind = (item as { type?: unknown }).type;
    return typeof kind === 'string' && kind.startsWith('xstate.') ? kind.slice(7) : 'inline';
  }
  return `${item.type}${describeParams(item.params)}`;
}

function describeTarget(transition: AnyTransitionDefinition, root: AnyStateNode): string {
  const targets = (transition.target ?? []) as AnyStateNode[];
  const keys = targets.map((node) => (node === root ? '(root)' : node.path.join('.')));
  return `${keys.join(',')}${transition.reenter && keys.length > 0 ? ' (reenter)' : ''}`;
}

function rowsOf(node: AnyStateNode, root: AnyStateNode): TransitionRow[] {
  const state = node === root ? '(any)' : node.path.join('.');
  const rows: TransitionRow[] = [];
  const push = (event: string, transition: AnyTransitionDefinition) =>
    rows.push([
      state,
      event,
      describeNamed(transition.guard as Named | undefined),
      describeTarget(transition, root),
      (transition.actions as Named[]).map(describeNamed).join(', '),
    ]);
  for (const [eventType, transitions] of node.transitions as Map<string, AnyTransitionDefinition[]>)
    for (const transition of transitions) push(shortEvent(eventType), transition);
  for (const transition of (node.always ?? []) as AnyTransitionDefinition[]) push('always', transition);
  for (const child of Object.values(node.states) as AnyStateNode[]) rows.push(...rowsOf(child, root));
  return rows;
}

/**
 * Every transition of `machine`, read from its definition (`on`, `always`, `after`, invoke
 * `onDone`/`onError`, state `onDone`, at every level), in a stable order: by state, then event, then
 * declaration order (the order guards are tried in).
 *
 * @example
 * expect(transitionTable(consumerMachine)).toEqual(sortRows(CONSUMER_TABLE))
 */
export function transitionTable(machine: AnyStateMachine): TransitionRow[] {
  return sortRows(rowsOf(machine.root, machine.root));
}

/** Rows sorted by state, then event; rows of one (state, event) keep their order (guard priority). */
export function sortRows(rows: readonly TransitionRow[]): TransitionRow[] {
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => a.row[0].localeCompare(b.row[0]) || a.row[1].localeCompare(b.row[1]) || a.index - b.index)
    .map(({ row }) => row);
}

/** Rows of `a` not in `b`, compared as whole rows (for failure messages that name the transition). */
export function rowsMissing(a: readonly TransitionRow[], b: readonly TransitionRow[]): string[] {
  const keys = new Set(b.map((row) => row.join(' | ')));
  return a.map((row) => row.join(' | ')).filter((key) => !keys.has(key));
}

/**
 * The states of `machine` as `path: type` (`atomic`, `compound`, `final`, …), with each compound
 * state's initial child as `path.initial: child`, the root as `(root)`; for asserting the shape beside
 * the transitions.
 */
export function stateShape(machine: AnyStateMachine): Record<string, string> {
  const shape: Record<string, string> = {};
  const visit = (node: AnyStateNode) => {
    const path = node === machine.root ? '(root)' : node.path.join('.');
    shape[path] = node.type;
    const initial = (node.initial?.target ?? []) as AnyStateNode[];
    if (initial.length > 0) shape[`${path}.initial`] = initial.map((n) => n.path.join('.')).join(',');
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return shape;
}
