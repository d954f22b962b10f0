import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** One transition of a machine definition, by state keys. */
export interface MachineEdge {
  source: string;
  target: string;
  /** Event type, shortened: `done: poll`, `error: poll`, `after: backoffDelay`, `always`. */
  label: string;
}

export interface MachineGraph {
  id: string;
  initial: string | null;
  states: { key: string; final: boolean }[];
  edges: MachineEdge[];
}

/**
 * The states and transitions of a flat machine, read from its definition (not written by hand), for
 * diagrams on the dashboard and in the docs. Transitions declared on the root apply from every
 * non-final state and are listed once per state.
 *
 * @example
 * machineGraph(consumerMachine).edges.find((e) => e.source === 'polling')
 */
export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const root = machine.root;
  const states = Object.values(root.states) as AnyStateNode[];
  const edges: MachineEdge[] = [];
  const seen = new Set<string>();
  const push = (source: string, target: string, label: string) => {
    const key = `${source}|${target}|${label}`;
    if (seen.has(key)) return;
    seen.add(key);
    edges.push({ source, target, label });
  };
  const collect = (owner: AnyStateNode, sources: AnyStateNode[]) => {
    for (const [eventType, transitions] of owner.transitions) {
      for (const transition of transitions) {
        for (const target of transition.target ?? []) {
          for (const source of sources) {
            // A state's own handler of the event shadows the root's.
            if (source !== owner && source.transitions.has(eventType)) continue;
            push(source.key, target.key, shortLabel(eventType));
          }
        }
      }
    }
    for (const transition of owner.always ?? []) {
      for (const target of transition.target ?? [])
        for (const source of sources) push(source.key, target.key, 'always');
    }
  };
  for (const state of states) collect(state, [state]);
  collect(
    root,
    states.filter((s) => s.type !== 'final'),
  );
  const initial = root.initial?.target?.[0]?.key ?? null;
  return {
    id: root.id,
    initial,
    states: states.map((s) => ({ key: s.key, final: s.type === 'final' })),
    edges,
  };
}

function shortLabel(eventType: string): string {
  if (eventType.startsWith('xstate.done.actor.')) return `done: ${eventType.slice(18)}`;
  if (eventType.startsWith('xstate.error.actor.')) return `error: ${eventType.slice(19)}`;
  if (eventType.startsWith('xstate.after.')) return `after: ${eventType.slice(13).split('.')[0]}`;
  return eventType;
}

/** A Mermaid `stateDiagram-v2` of a machine graph. */
export function toMermaid(graph: MachineGraph): string {
  const lines = ['stateDiagram-v2'];
  if (graph.initial) lines.push(`  [*] --> ${graph.initial}`);
  for (const edge of graph.edges)
    lines.push(`  ${edge.source} --> ${edge.target}: ${edge.label.replaceAll(': ', ' ')}`);
  for (const state of graph.states) if (state.final) lines.push(`  ${state.key} --> [*]`);
  return lines.join('\n');
}
