import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One transition of a machine definition, as declared. */
interface MachineTransition {
  /** The state it is declared on; `null` for the machine's root (taken from any state that does not handle the event itself). */
  source: string | null;
  /** The state it goes to; `null` for a targetless transition (its actions run, the state stays). */
  target: string | null;
  /**
   * The event type as XState names it (`io.read.done`, `xstate.done.actor.poll`,
   * `xstate.after.backoffDelay.consumer.backoff`); `''` for an eventless (`always`) transition.
   */
  eventType: string;
  /** The guard's name; `null` when unguarded or guarded by an inline function. */
  guard: string | null;
}

export interface MachineGraph {
  id: string;
  initial: string | null;
  states: { key: string; final: boolean }[];
  transitions: MachineTransition[];
}

/**
 * The states and transitions of a flat machine, read from its definition (not written by hand): the
 * one reader behind the diagrams in the docs (`toMermaid`) and on the dashboard. Every transition is
 * listed, targetless ones too (the supervisor's `restart`, polling's `io.read.done` loop), in the
 * order the definition declares them: each state's own (`on`, delays, invoke results, then `always`),
 * then the root's.
 *
 * @example
 * machineGraph(consumerMachine).transitions.filter((t) => t.source === 'polling')
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const root = machine.root;
  const states = Object.values(root.states) as AnyStateNode[];
  const transitions: MachineTransition[] = [];
  const collect = (owner: AnyStateNode, source: string | null) => {
    for (const [eventType, list] of owner.transitions) {
      for (const t of list) pushTargets(transitions, source, eventType, t);
    }
    for (const t of owner.always ?? []) pushTargets(transitions, source, '', t);
  };
  for (const state of states) collect(state, state.key);
  collect(root, null);
  return {
    id: root.id,
    initial: root.initial?.target?.[0]?.key ?? null,
    states: states.map((s) => ({ key: s.key, final: s.type === 'final' })),
    transitions,
  };
}

interface TransitionLike {
  target?: readonly { key: string }[] | undefined;
  guard?: unknown;
}

function pushTargets(into: MachineTransition[], source: string | null, eventType: string, t: TransitionLike) {
  const guard = guardName(t.guard);
  const targets = t.target ?? [];
  if (targets.length === 0) into.push({ source, target: null, eventType, guard });
  for (const target of targets) into.push({ source, target: target.key, eventType, guard });
}

function guardName(guard: unknown): string | null {
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'object' && guard !== null && 'type' in guard && typeof guard.type === 'string')
    return guard.type;
  return null;
}

/** A transition between two states, as a diagram draws it. */
export interface StateEdge {
  source: string;
  /** Equal to `source` for a targetless transition, drawn as a loop. */
  target: string;
  eventType: string;
  guard: string | null;
  targetless: boolean;
}

/**
 * The machine's transitions state to state: a root transition once per non-final state that does
 * not handle the event itself without a guard (a state's own handler shadows the root's), a
 * targetless one as a loop on its state.
 */
export function stateEdges(graph: MachineGraph): StateEdge[] {
  const edges: StateEdge[] = [];
  const own = graph.transitions.filter((t) => t.source !== null);
  const shadows = new Set(own.filter((t) => t.guard === null).map((t) => `${t.source}|${t.eventType}`));
  const push = (source: string, t: MachineTransition) =>
    edges.push({
      source,
      target: t.target ?? source,
      eventType: t.eventType,
      guard: t.guard,
      targetless: t.target === null,
    });
  for (const t of own) push(t.source as string, t);
  for (const t of graph.transitions) {
    if (t.source !== null) continue;
    for (const state of graph.states) {
      if (!state.final && !shadows.has(`${state.key}|${t.eventType}`)) push(state.key, t);
    }
  }
  return edges;
}

/** `xstate.done.actor.poll` → `done: poll`, `xstate.after.backoffDelay.consumer.backoff` → `after: backoffDelay`. */
function shortLabel(eventType: string): string {
  if (eventType === '') return 'always';
  if (eventType.startsWith('xstate.done.actor.')) return `done: ${eventType.slice(18)}`;
  if (eventType.startsWith('xstate.error.actor.')) return `error: ${eventType.slice(19)}`;
  if (eventType.startsWith('xstate.after.')) return `after: ${eventType.slice(13).split('.')[0]}`;
  return eventType;
}

/**
 * A Mermaid `stateDiagram-v2` of a machine graph: one line per transition and event (guarded
 * alternatives to the same state merged), a targetless transition as a loop marked `(targetless)`.
 */
export function toMermaid(graph: MachineGraph): string {
  const lines = ['stateDiagram-v2'];
  if (graph.initial) lines.push(`  [*] --> ${graph.initial}`);
  for (const edge of stateEdges(graph)) {
    const label = `${shortLabel(edge.eventType).replaceAll(': ', ' ')}${edge.targetless ? ' (targetless)' : ''}`;
    const line = `  ${edge.source} --> ${edge.target}: ${label}`;
    if (!lines.includes(line)) lines.push(line);
  }
  for (const state of graph.states) if (state.final) lines.push(`  ${state.key} --> [*]`);
  return lines.join('\n');
}
