/** How often to read, and how long before giving up. */
export interface Patience {
  everyMs?: number;
  timeoutMs?: number;
}

/**
 * Reads in real time, every `everyMs`, until `done` holds for what `read` returns, and returns that.
 * A read that throws or gives undefined counts as not yet (a workflow not started, a query before its
 * handler is set). After `timeoutMs` it fails naming what it waited for and what it read last, where
 * a bare loop runs into jest's test timeout without a word of what it awaited.
 */
export async function until<T>(
  read: () => T | undefined | Promise<T | undefined>,
  done: (value: T) => boolean,
  what: string | (() => string),
  { everyMs = 100, timeoutMs = 60_000 }: Patience = {},
): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  let last: { value: T | undefined } | { error: unknown };
  for (;;) {
    let value: T | undefined;
    try {
      value = await read();
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (value !== undefined && done(value)) return value;
    if (Date.now() >= giveUpAt) {
      const seen = 'error' in last ? String(last.error) : JSON.stringify(last.value);
      const awaited = typeof what === 'string' ? what : what();
      throw new Error(`Waited ${timeoutMs / 1000} s for ${awaited}; read last: ${seen?.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
