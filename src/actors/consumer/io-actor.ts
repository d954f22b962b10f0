import type { ActorLogic, AnyActorRef, AnyEventObject, Snapshot } from 'xstate';
import type { SessionInput } from '../../machines/consumer-machine.js';
import type { IoSendBack } from '../consumer-deps.js';
import type { ConsumerIo } from './consumer-io.js';

/** The `io` actor's snapshot: its context is the incarnation's I/O session. */
export type IoSnapshot = Snapshot<undefined> & { context: ConsumerIo; input: SessionInput };

/**
 * Actor logic of a consumer's `io` actor (invoked for the consumer's whole life): it creates the
 * incarnation's session on start, keeps it as its snapshot's `context` (so the consumer's other
 * actors reach it through the actor tree, see `sessionOf`), and disposes it when stopped.
 */
export function ioLogic(
  create: (input: SessionInput, system: AnyActorRef['system'], sendBack: IoSendBack) => ConsumerIo,
): ActorLogic<IoSnapshot, AnyEventObject, SessionInput> {
  return {
    config: create,
    transition: (snapshot, event) => {
      if (event.type !== 'xstate.stop') return snapshot;
      snapshot.context.dispose();
      return {
        status: 'stopped',
        output: undefined,
        error: undefined,
        input: snapshot.input,
        context: snapshot.context,
      };
    },
    getInitialSnapshot: ({ self, system }, input) => {
      const sendBack: IoSendBack = (event) => {
        if (self.getSnapshot().status !== 'stopped') self._parent?.send(event);
      };
      return {
        status: 'active',
        output: undefined,
        error: undefined,
        input,
        context: create(input, system, sendBack),
      };
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}

/**
 * The I/O session of the consumer `ref` belongs to: `ref` is the consumer or one of its descendants
 * (a worker, a worker's dead-letter actor, the recover actor). Undefined once the incarnation ended.
 */
export function sessionOf(ref: AnyActorRef | undefined): ConsumerIo | undefined {
  for (let at = ref; at !== undefined; at = at._parent) {
    const io = (at.getSnapshot() as { children?: Record<string, AnyActorRef | undefined> }).children?.io;
    if (io !== undefined) {
      const snapshot = io.getSnapshot() as IoSnapshot;
      return snapshot.status === 'active' ? snapshot.context : undefined;
    }
  }
  return undefined;
}
