/** aosMode "process": each run of an AOS is its own Node.js process (aos.js), as a real AOS would be. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { AosLauncher, AosRun } from './aos-controller';
import type { AosMessage, SupervisorMessage } from './schemas';
import { aosMessageSchema } from './schemas';

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
/** Compiled next to this file: the fleet always runs from dist/. */
const AOS_SCRIPT = path.join(__dirname, 'aos.js');

type ReadyMessage = Extract<AosMessage, { type: 'ready' }>;

const describeExit = (code: number | null, signal: NodeJS.Signals | null): string =>
  code === null ? `killed by ${signal}` : `exited with code ${code}`;

export const launchAosProcess: AosLauncher = (options, faults, logger): AosRun => {
  const args = ['--id', options.id, '--role', options.role, '--database', options.database];
  args.push('--startup-ms', String(options.startupMs));
  if (options.failStart) args.push('--fail-start', options.failStart);
  const child = spawn(process.execPath, [AOS_SCRIPT, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

  // Answers a running AOS's questions: whether this sign-in must fail is for the fault switches to say.
  child.on('message', (raw: unknown) => {
    const message = aosMessageSchema.safeParse(raw);
    if (!message.success || message.data.type !== 'takeSignInFailure') return;
    const { requestId } = message.data;
    const reply: SupervisorMessage = {
      type: 'signInFailure',
      requestId,
      reason: faults.takeSignInFailure(options.id) ?? null,
    };
    // A callback, so that a channel closed meanwhile (the AOS just exited) is not an unhandled 'error'.
    if (child.connected)
      child.send(reply, (err) => err && logger.warn({ err, requestId }, 'could not answer the AOS'));
  });
  const ended = new Promise<string>((resolve) => {
    child.once('close', (code, signal) => resolve(describeExit(code, signal)));
    child.once('error', (err) => child.pid === undefined && resolve(`did not start: ${err.message}`));
  });
  return {
    pid: child.pid ?? null,
    ready: waitUntilReady(child),
    ended,
    stop() {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      void ended.then(() => clearTimeout(kill));
    },
    kill: () => child.kill('SIGKILL'),
  };
};

/** Resolves on the AOS's ready message; rejects with its reason when it exits first or takes too long. */
function waitUntilReady(child: ChildProcess): Promise<ReadyMessage> {
  return new Promise((resolve, reject) => {
    let reason: string | undefined;
    const timer = setTimeout(
      () => settle(new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    const onMessage = (raw: unknown): void => {
      const message = aosMessageSchema.safeParse(raw);
      if (!message.success) return;
      if (message.data.type === 'failed') reason = message.data.reason;
      else if (message.data.type === 'ready') settle(undefined, message.data);
    };
    const onClose = (code: number | null, signal: NodeJS.Signals | null): void =>
      settle(new Error(reason ?? describeExit(code, signal)));
    const onError = (err: Error): void => settle(err);
    child.on('message', onMessage);
    child.once('close', onClose);
    child.once('error', onError);

    function settle(err?: Error, ready?: ReadyMessage): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('close', onClose);
      child.off('error', onError);
      if (ready) resolve(ready);
      else reject(err);
    }
  });
}
