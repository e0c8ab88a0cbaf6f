import { AsyncLocalStorage } from 'node:async_hooks';

/** What a driver ran for the activity now running: one line a command, with its bounded output. */
const current = new AsyncLocalStorage<string[]>();

/** Runs `work`, collecting what drivers report of it (`noteRun`); the lines go to the operation log. */
export async function collectTranscript<T>(
  work: () => Promise<T>,
): Promise<{ result: T; transcript: string[] }> {
  const transcript: string[] = [];
  const result = await current.run(transcript, work);
  return { result, transcript };
}

/** Called by a driver for each command it ran; outside `collectTranscript` it goes nowhere. */
export function noteRun(line: string): void {
  current.getStore()?.push(line);
}
