import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { consumerMachine } from '../../src/machines/consumer-machine.js';
import { dispatchWorkerMachine } from '../../src/machines/dispatch-worker-machine.js';
import { machineGraph, stateEdges, toMermaid } from '../../src/machines/machine-graph.js';
import { supervisorMachine } from '../../src/machines/supervisor-machine.js';

describe('machineGraph', () => {
  it('lists targetless transitions: the supervisor restart and the read loop in polling', () => {
    const supervisor = machineGraph(supervisorMachine).transitions;
    expect(supervisor).toContainEqual({ source: 'running', target: null, eventType: 'restart', guard: null });
    // A child's end: a restart scheduled (targetless, twice: stopped normally or not) or → failed.
    expect(supervisor.filter((t) => t.source === 'running' && t.eventType === 'xstate.done.actor.*')).toEqual(
      [
        { source: 'running', target: null, eventType: 'xstate.done.actor.*', guard: 'stoppedNormally' },
        {
          source: 'running',
          target: 'failed',
          eventType: 'xstate.done.actor.*',
          guard: 'restartLimitReached',
        },
        { source: 'running', target: null, eventType: 'xstate.done.actor.*', guard: null },
      ],
    );
    expect(machineGraph(consumerMachine).transitions.filter((t) => t.source === 'polling')).toEqual(
      expect.arrayContaining([
        { source: 'polling', target: null, eventType: 'io.read.done', guard: 'readAgain' },
        { source: 'polling', target: 'dispatching', eventType: 'io.read.done', guard: null },
      ]),
    );
  });

  it('keeps root transitions on the root, and eventless ones as the empty event', () => {
    const graph = machineGraph(consumerMachine);
    expect(graph.initial).toBe('creatingGroup');
    expect(graph.transitions.filter((t) => t.source === null).map((t) => [t.eventType, t.target])).toEqual([
      ['stop', 'draining'],
      ['io.failed', 'draining'],
      ['concurrency.set', null],
      ['io.workers.retired', null],
    ]);
    expect(machineGraph(supervisorMachine).transitions).toContainEqual({
      source: 'stopping',
      target: 'stopped',
      eventType: '',
      guard: 'noneLive',
    });
  });
});

describe('stateEdges', () => {
  it('draws a targetless transition as a loop and spreads root transitions over the states', () => {
    const edges = stateEdges(machineGraph(consumerMachine));
    expect(edges).toContainEqual({
      source: 'polling',
      target: 'polling',
      eventType: 'io.read.done',
      guard: 'readAgain',
      targetless: true,
    });
    const stops = edges.filter((e) => e.eventType === 'stop');
    // draining handles stop itself (ignores it), final states take no transition.
    expect(stops.map((e) => `${e.source}->${e.target}${e.targetless ? ' (targetless)' : ''}`)).toEqual([
      'draining->draining (targetless)',
      'creatingGroup->draining',
      'recovering->draining',
      'polling->draining',
      'dispatching->draining',
      'backoff->draining',
    ]);
  });

  it('lets only an unguarded handler of a state shadow the root', () => {
    const machine = setup({ guards: { ready: () => true } }).createMachine({
      initial: 'a',
      on: { go: '.c' },
      states: { a: { on: { go: { guard: 'ready', target: 'b' } } }, b: { on: { go: {} } }, c: {} },
    });
    expect(stateEdges(machineGraph(machine)).map((e) => `${e.source}->${e.target}`)).toEqual([
      'a->b',
      'b->b',
      'a->c',
      'c->c',
    ]);
  });
});

describe('toMermaid', () => {
  it('shows the supervisor restart and the read loop as marked self-loops', () => {
    const supervisor = toMermaid(machineGraph(supervisorMachine)).split('\n');
    expect(supervisor).toContain('  running --> running: restart (targetless)');
    expect(supervisor).toContain('  running --> running: done * (targetless)');
    expect(supervisor).toContain('  running --> failed: done *');
    const consumer = toMermaid(machineGraph(consumerMachine)).split('\n');
    expect(consumer).toContain('  polling --> polling: io.read.done (targetless)');
    expect(consumer).toContain('  polling --> dispatching: io.read.done');
    expect(toMermaid(machineGraph(dispatchWorkerMachine)).split('\n')).toContain(
      '  running --> running: abort (targetless)',
    );
  });

  it('writes each edge once, though guarded alternatives repeat it', () => {
    const lines = toMermaid(machineGraph(supervisorMachine)).split('\n');
    expect(lines.filter((l) => l === '  running --> running: done * (targetless)')).toHaveLength(1);
    expect(new Set(lines).size).toBe(lines.length);
  });
});
