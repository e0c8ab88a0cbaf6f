/**
 * aosMode "inprocess": each run of an AOS is aos-server.ts's AOS inside the supervisor, with its own
 * port and database connection but no process of its own, so that hundreds of environments fit on one
 * machine. A crash closes it at once; nothing in it is told.
 */
import type { AosLauncher, AosRun } from './aos-controller';
import type { RunningAos } from './aos-server';
import { startAos } from './aos-server';

export const launchAosInProcess: AosLauncher = (options, faults, logger): AosRun => {
  const stopping = new AbortController();
  let running: RunningAos | undefined;
  let end!: (how: string) => void;
  const ended = new Promise<string>((resolve) => (end = resolve));

  const ready = startAos({
    ...options,
    pid: process.pid,
    logger,
    takeSignInFailure: async () => faults.takeSignInFailure(options.id),
    signal: stopping.signal,
  }).then(
    (aos) => {
      running = aos;
      return aos;
    },
    (err: unknown) => {
      end(stopping.signal.aborted ? 'stopped while starting' : 'did not start');
      throw err;
    },
  );
  /** Ends the run: a start in progress gives up, a running AOS closes; `how` is what `ended` says. */
  const finish = (how: string): void => {
    stopping.abort();
    if (running) void running.close().then(() => end(how));
  };
  return {
    pid: process.pid,
    ready,
    ended,
    stop: () => finish('stopped'),
    kill: () => finish('killed in-process'),
  };
};
