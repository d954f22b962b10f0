import type { ActorLogic, AnyActorRef, AnyEventObject, Snapshot } from 'xstate';
import type { IoStartInput } from '../../machines/consumer-machine.js';
import type { IoSendBack } from '../consumer-deps.js';
import type { ConsumerIo } from './consumer-io.js';

/** The `io` actor's snapshot: its context is the incarnation's ConsumerIo. */
export type IoSnapshot = Snapshot<undefined> & { context: ConsumerIo; input: IoStartInput };

/**
 * Actor logic of a consumer's `io` actor (invoked for the consumer's whole life): it creates the
 * incarnation's ConsumerIo on start, keeps it as its snapshot's `context`, and disposes it when
 * stopped. While it runs, `live` holds it under its incarnation id: that is how the consumer's
 * actions and its `recover` and `drain` actors find it (see `provideMachines`).
 */
export function ioLogic(
  create: (input: IoStartInput, system: AnyActorRef['system'], sendBack: IoSendBack) => ConsumerIo,
  live: Map<string, ConsumerIo>,
): ActorLogic<IoSnapshot, AnyEventObject, IoStartInput> {
  return {
    config: create,
    transition: (snapshot, event) => {
      if (event.type !== 'xstate.stop') return snapshot;
      snapshot.context.dispose();
      if (live.get(snapshot.input.session) === snapshot.context) live.delete(snapshot.input.session);
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
      const io = create(input, system, sendBack);
      live.set(input.session, io);
      return { status: 'active', output: undefined, error: undefined, input, context: io };
    },
    getPersistedSnapshot: (snapshot) => snapshot,
  };
}
