import { fromPromise } from 'xstate';

/**
 * A placeholder promise actor for a machine's named I/O actor: the runtime provides the real one; this
 * fails loudly, naming the actor, if a machine is run without it.
 *
 * @example
 * setup({ actors: { drain: unprovided<{ lastId: string | null }, IoInput>("The consumer's", 'drain') } })
 */
export function unprovided<O, I>(owner: string, name: string) {
  return fromPromise<O, I>(async () => {
    throw new Error(`${owner} actor "${name}" was not provided; run it through createRuntime`);
  });
}
