// Model-based testing on the real machines: generate paths with xstate/graph, replay each on a real
// actor (stubs + SimulatedClock), and measure which states and transitions the replays took.
import { expect } from 'vitest';
import type {
  AnyActorRef,
  AnyEventObject,
  AnyStateMachine,
  AnyStateNode,
  AnyTransitionDefinition,
  InspectionEvent,
} from 'xstate';
import type { StatePath } from 'xstate/graph';

// biome-ignore lint/suspicious/noExplicitAny: graph paths are generic over any machine snapshot
export type AnyPath = StatePath<any, AnyEventObject>;

/** A real actor for one replay: `apply` makes `event` happen (resolve a stub, move the clock, send). */
export interface Replayer {
  actor: AnyActorRef;
  apply(event: AnyEventObject): Promise<void>;
}

/** What the replays took: `state: event #candidate → target`, and the states they reached. */
export class Coverage {
  readonly transitions = new Set<string>();
  readonly states = new Set<string>();

  /**
   * The observer to pass as `createActor(…, { inspect })`: records the microsteps of the root actor
   * `root()`, each from the state the previous one reached (`initial` before the first).
   */
  observer(root: () => AnyActorRef | undefined, initial: string) {
    let last = initial;
    return (event: InspectionEvent) => {
      if (event.type !== '@xstate.microstep' || event.actorRef !== root()) return;
      const transitions = (event as { _transitions?: AnyTransitionDefinition[] })._transitions ?? [];
      for (const transition of transitions) this.transitions.add(transitionKey(last, transition));
      last = String((event.snapshot as unknown as { value: unknown }).value);
    };
  }
}

/**
 * Replay one path step by step, asserting after each the real actor's state value and its state as
 * `serialize` sees it (the graph's vertex: the state value plus the context facts that matter).
 */
export async function replayPath(
  path: AnyPath,
  make: () => Replayer,
  coverage: Coverage,
  serialize: (state: AnyPath['state']) => string,
): Promise<void> {
  const { actor, apply } = make();
  const [init, ...steps] = path.steps;
  expect(init?.event.type).toBe('xstate.init');
  expect(actor.getSnapshot().value).toEqual(init?.state.value);
  coverage.states.add(String(actor.getSnapshot().value));
  for (const [index, step] of steps.entries()) {
    await apply(step.event);
    const snapshot = actor.getSnapshot();
    const where = `step ${index + 1} (${step.event.type}) of ${describePath(path)}`;
    expect(snapshot.value, where).toEqual(step.state.value);
    expect(serialize(snapshot), where).toBe(serialize(step.state));
    coverage.states.add(String(snapshot.value));
  }
  actor.stop();
}

export function describePath(path: AnyPath): string {
  return path.steps
    .map((step) => `${step.event.type}${'outcome' in step.event ? `(${String(step.event.outcome)})` : ''}`)
    .join(' → ');
}

function transitionKey(from: string, transition: AnyTransitionDefinition): string {
  const owner = transition.source as AnyStateNode;
  const candidates: readonly AnyTransitionDefinition[] =
    transition.eventType === '' ? (owner.always ?? []) : (owner.transitions.get(transition.eventType) ?? []);
  const target = transition.target?.map((node: AnyStateNode) => node.key).join(',') ?? '(stays)';
  return `${from}: ${transition.eventType || 'always'} #${candidates.indexOf(transition)} → ${target}`;
}

/**
 * Every transition the machine defines, from every non-final state: the state's own and its
 * ancestors' (unless a nearer node handles the event without a guard), keyed like `Coverage`.
 */
export function definedTransitions(machine: AnyStateMachine): Set<string> {
  const keys = new Set<string>();
  for (const state of Object.values(machine.root.states) as AnyStateNode[]) {
    if (state.type === 'final') continue;
    const handled = new Set<string>();
    for (let node: AnyStateNode | undefined = state; node; node = node.parent) {
      const nearer = new Set<string>();
      for (const [eventType, candidates] of node.transitions) {
        if (handled.has(eventType)) continue;
        for (const candidate of candidates) keys.add(transitionKey(state.key, candidate));
        if (candidates.some((c) => c.guard === undefined)) nearer.add(eventType);
      }
      for (const candidate of node.always ?? []) keys.add(transitionKey(state.key, candidate));
      for (const eventType of nearer) handled.add(eventType);
    }
  }
  return keys;
}

/** Fail with the list of states and transitions no replayed path took. */
export function expectFullCoverage(machine: AnyStateMachine, coverage: Coverage): void {
  const missingStates = Object.keys(machine.root.states).filter((state) => !coverage.states.has(state));
  const missingTransitions = [...definedTransitions(machine)].filter((key) => !coverage.transitions.has(key));
  if (missingStates.length === 0 && missingTransitions.length === 0) return;
  throw new Error(
    `Not covered by any replayed path:\n  states: ${missingStates.join(', ') || '(none)'}\n  transitions:\n    ${missingTransitions.join('\n    ') || '(none)'}`,
  );
}

/** A path to every vertex plus one step along every edge out of it: covers every transition. */
export function edgePaths(
  shortest: readonly AnyPath[],
  adjacency: Record<
    string,
    { transitions: Record<string, { event: AnyEventObject; state: AnyPath['state'] }> }
  >,
  serialize: (state: AnyPath['state']) => string,
): AnyPath[] {
  const byVertex = new Map(shortest.map((path) => [serialize(path.state), path]));
  const paths: AnyPath[] = [];
  for (const [vertex, { transitions }] of Object.entries(adjacency)) {
    const to = byVertex.get(vertex);
    if (!to) continue;
    for (const { event, state } of Object.values(transitions)) {
      paths.push({ state, steps: [...to.steps, { event, state }], weight: to.weight + 1 });
    }
  }
  return paths;
}
