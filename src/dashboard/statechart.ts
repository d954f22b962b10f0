/**
 * Statecharts for the dashboard: a machine's own definition → a graph of its top-level states and
 * transitions → an elkjs layered layout → plain JSON with coordinates, which the page draws as SVG.
 * Computed once per process (the machines do not change at run time). elkjs (20–50 MB of RSS) is
 * loaded by the first layout, so importing the library without starting a dashboard does not load it.
 */
import type { ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { AnyStateMachine } from 'xstate';
import { consumerMachine } from '../machines/consumer-machine.js';
import { dispatchWorkerMachine } from '../machines/dispatch-worker-machine.js';
import { machineGraph } from '../machines/machine-graph.js';
import { supervisorMachine } from '../machines/supervisor-machine.js';

/** A state (or a pseudo node: `__initial`, the start dot; `__any`, transitions taken from any state). */
interface ChartNode {
  id: string;
  label: string;
  kind: 'state' | 'final' | 'initial' | 'any';
  x: number;
  y: number;
  width: number;
  height: number;
}

/** All transitions from one node to another, merged into one drawn edge. */
interface ChartEdge {
  id: string;
  source: string;
  target: string;
  /** Event names, shortened (`read ✗` for `io.read.failed`, `drain ✓` for `xstate.done.actor.drain`). */
  label: string;
  /** `label` wrapped for drawing: the events packed into lines of at most 32 characters. */
  labelLines: string[];
  /** Named guards of the merged transitions, for a tooltip. */
  guards: string[];
  /** Every merged transition is targetless (a loop on `source`: actions run, the state stays). */
  targetless: boolean;
  /** The polyline, start to end, in chart coordinates. */
  points: { x: number; y: number }[];
  labelBox: { x: number; y: number; width: number; height: number } | null;
}

/** A laid-out statechart of one machine, JSON-safe. */
interface Statechart {
  machine: string;
  width: number;
  height: number;
  nodes: ChartNode[];
  edges: ChartEdge[];
}

interface GraphEdge {
  source: string;
  target: string;
  events: string[];
  guards: string[];
  targetless: boolean;
}

const FONT_WIDTH = 6.6;
const LABEL_HEIGHT = 14;

/**
 * `xstate.done.actor.drain` → `drain ✓`, `io.read.failed` → `read ✗`,
 * `xstate.after.backoffDelay.consumer.backoff` → `after backoffDelay`.
 */
function eventLabel(eventType: string): string {
  const io = /^io\.([^.]+)\.(done|failed)$/.exec(eventType);
  if (io) return `${io[1]} ${io[2] === 'done' ? '✓' : '✗'}`;
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done) return done[1] === '*' ? 'child done' : `${done[1]} ✓`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (error) return error[1] === '*' ? 'child error' : `${error[1]} ✗`;
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  return eventType === '' ? 'always' : eventType;
}

/**
 * The chart graph of a machine's top-level states, built on `machineGraph` (the one reader of a
 * definition). Transitions between the same two nodes merge into one edge; a targetless transition
 * (actions only: the supervisor's `restart`, polling's read loop) is a loop on its state; root-level
 * transitions start from the `__any` pseudo node.
 */
function chartGraph(machine: AnyStateMachine): { nodes: ChartNode[]; edges: GraphEdge[] } {
  const graph = machineGraph(machine);
  const box = (id: string, label: string, kind: ChartNode['kind']): ChartNode => {
    const pseudo = kind === 'initial' || kind === 'any';
    const width = kind === 'initial' ? 14 : Math.max(64, Math.ceil(label.length * 7.2) + 24);
    return { id, label, kind, x: 0, y: 0, width, height: kind === 'initial' ? 14 : pseudo ? 26 : 32 };
  };
  const nodes: ChartNode[] = [box('__initial', '', 'initial')];
  for (const state of graph.states) nodes.push(box(state.key, state.key, state.final ? 'final' : 'state'));
  const merged = new Map<string, GraphEdge>();
  if (graph.initial) {
    merged.set(`__initial->${graph.initial}`, {
      source: '__initial',
      target: graph.initial,
      events: [],
      guards: [],
      targetless: false,
    });
  }
  for (const t of graph.transitions) {
    const source = t.source ?? '__any';
    const target = t.target ?? source;
    const id = `${source}->${target}`;
    const edge = merged.get(id) ?? { source, target, events: [], guards: [], targetless: true };
    const label = eventLabel(t.eventType);
    if (!edge.events.includes(label)) edge.events.push(label);
    if (t.guard !== null && !edge.guards.includes(t.guard)) edge.guards.push(t.guard);
    edge.targetless &&= t.target === null;
    merged.set(id, edge);
  }
  if (graph.transitions.some((t) => t.source === null)) nodes.push(box('__any', 'any state', 'any'));
  return { nodes, edges: [...merged.values()] };
}

/** Lay a machine's graph out with elkjs (layered, left to right). */
async function layoutStatechart(
  machine: AnyStateMachine,
  direction: 'RIGHT' | 'DOWN' = 'RIGHT',
): Promise<Statechart> {
  const graph = chartGraph(machine);
  const { default: elkModule } = await import('elkjs/lib/elk.bundled.js');
  const elk = new elkModule.default();
  const input: ElkNode = {
    id: machine.id,
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.layered.cycleBreaking.strategy': 'DEPTH_FIRST',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.direction': direction,
      'elk.edgeRouting': 'POLYLINE',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.spacing.nodeNode': '22',
      'elk.spacing.edgeLabel': '3',
      'elk.edgeLabels.inline': 'false',
      'elk.padding': '[top=12,left=12,bottom=12,right=12]',
    },
    children: graph.nodes.map((n) => ({ id: n.id, width: n.width, height: n.height })),
    edges: graph.edges.map((e) => {
      const lines = wrapEvents(e.events);
      const longest = Math.max(0, ...lines.map((line) => line.length));
      return {
        id: `${e.source}->${e.target}`,
        sources: [e.source],
        targets: [e.target],
        labels:
          lines.length > 0
            ? [
                {
                  id: `${e.source}->${e.target}:label`,
                  text: lines.join('\n'),
                  width: longest * FONT_WIDTH + 6,
                  height: lines.length * LABEL_HEIGHT,
                },
              ]
            : [],
      };
    }),
  };
  const result = await elk.layout(input);
  const placed = new Map((result.children ?? []).map((c) => [c.id, c]));
  const nodes = graph.nodes.map((n) => {
    const c = placed.get(n.id);
    return { ...n, x: c?.x ?? 0, y: c?.y ?? 0 };
  });
  const edges: ChartEdge[] = (result.edges ?? []).map((e, i) => {
    const g = graph.edges[i];
    if (g === undefined) throw new Error(`elk returned an edge it was not given: ${e.id}`);
    const section = e.sections?.[0];
    const points = section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [];
    const label = e.labels?.[0];
    return {
      id: e.id,
      source: g.source,
      target: g.target,
      label: g.events.join(' / '),
      labelLines: wrapEvents(g.events),
      guards: g.guards,
      targetless: g.targetless,
      points: points.map((p) => ({ x: round(p.x), y: round(p.y) })),
      labelBox: label
        ? {
            x: round(label.x ?? 0),
            y: round(label.y ?? 0),
            width: label.width ?? 0,
            height: label.height ?? 0,
          }
        : null,
    };
  });
  return { machine: machine.id, width: result.width ?? 0, height: result.height ?? 0, nodes, edges };
}

/** Pack event names into lines of at most `max` characters (a longer name gets a line of its own). */
function wrapEvents(events: string[], max = 32): string[] {
  const lines: string[] = [];
  for (const event of events) {
    const last = lines.length - 1;
    const joined = last >= 0 ? `${lines[last]} / ${event}` : event;
    if (last >= 0 && joined.length <= max) lines[last] = joined;
    else lines.push(event);
  }
  return lines;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The three statecharts the dashboard draws, keyed by role. */
export interface Statecharts {
  supervisor: Statechart;
  consumer: Statechart;
  worker: Statechart;
}

let charts: Promise<Statecharts> | null = null;

/**
 * Lay out the supervisor, consumer and dispatch worker machines (once per process; later calls share
 * the result).
 *
 * @example
 * const { consumer } = await buildStatecharts()
 * consumer.nodes.find((n) => n.id === 'polling') // { x, y, width, height, … }
 */
export function buildStatecharts(): Promise<Statecharts> {
  charts ??= Promise.all([
    layoutStatechart(supervisorMachine),
    layoutStatechart(consumerMachine),
    layoutStatechart(dispatchWorkerMachine),
  ]).then(([supervisor, consumer, worker]) => ({ supervisor, consumer, worker }));
  return charts;
}
