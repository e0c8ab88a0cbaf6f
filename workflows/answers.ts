import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { log, setHandler } from '@temporalio/workflow';

/** An operator's answer to a running operation: a decision, an approval, ending or extending a window. */
export interface Answer<T, I> {
  name: string;
  update: UpdateDefinition<T, [I]>;
  signal: SignalDefinition<[I]>;
  description: string;
  /** Why the answer does not fit now (or its input, typed in by hand, is invalid); undefined when it does. */
  refusal(payload: unknown): string | undefined;
  apply(payload: unknown): T;
  /** Says, in the log and to the Web UI, that a signal was ignored and why. */
  ignored(message: string): void;
}

/**
 * Registers an answer as an update (the caller gets the result, or the refusal with its reason) and as
 * a signal of the same name for the Web UI (a refused one is noted in the log and changes nothing).
 */
export function setAnswerHandlers<T, I>(answer: Answer<T, I>): void {
  const { name, description, refusal, apply } = answer;
  setHandler(answer.update, (payload: I) => apply(payload), {
    validator: (payload: I) => {
      const why = refusal(payload);
      if (why) throw new Error(`${name} refused: ${why}`);
    },
    description,
  });
  setHandler(
    answer.signal,
    (payload: I) => {
      const why = refusal(payload);
      if (!why) return void apply(payload);
      answer.ignored(`Signal ${name} ignored: ${why}`);
      log.warn('Signal ignored', { signal: name, why });
    },
    { description },
  );
}
