import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { readImpact } from '../../activities/impact';
import { formatImpact, previewOf } from '../../contract/impact';
import type { PlannedCall } from '../../drivers/capabilities';
import { CommandError, createCommandDrivers } from '../../drivers/command';
import { secretsOf } from '../../config/secrets';
import { CommandRunner } from '../../drivers/command/run';
import { commandSettingsSchema, variableTexts, type CommandSettings } from '../../drivers/command/settings';
import { collectTranscript } from '../../drivers/transcript';
import { FAKE_COMMANDS, FAKE_ENVIRONMENT } from '../helpers/fake-environment';
import { canaryForms, canaryValue } from '../helpers/canary';
import { until } from '../helpers/until';

const NODE = process.execPath;

let dir: string;
let grandchild: number | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'command-driver-'));
  grandchild = undefined;
});
afterEach(() => {
  if (grandchild !== undefined && running(grandchild)) process.kill(grandchild, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function settingsOf(input: Record<string, unknown>) {
  return commandSettingsSchema.parse({ driver: 'command', workingDirectory: dir, timeout: '10s', ...input });
}

/** The secrets a worker with only these settings holds. */
const secretsFor = (settings: CommandSettings, env: NodeJS.ProcessEnv) =>
  secretsOf(variableTexts(settings), env);

function driversOf(input: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const settings = settingsOf(input);
  const workerEnv = { ...process.env, ...env };
  return createCommandDrivers(settings, {
    environment: 'test-env',
    env: workerEnv,
    secrets: secretsFor(settings, workerEnv),
  });
}

/** Runs `node -e script args...`. */
const nodeScript = (script: string, ...args: string[]) => ({ argv: [NODE, '-e', script, '--', ...args] });

/** Whether `pid` still runs; a zombie (dead, waiting for an init that may never reap it) does not. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Killed with its process group, a grandchild is gone within moments. */
const GONE_AT_ONCE = { everyMs: 20, timeoutMs: 500 };

/** A script that leaves a grandchild in its process group (as `sleep 60 &` in a real script) and waits. */
const WITH_GRANDCHILD = { shell: 'sleep 60 & echo $! > grandchild.pid; wait' };
const grandchildPid = () =>
  until(
    () => {
      const file = path.join(dir, 'grandchild.pid');
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
      return text ? Number(text) : undefined;
    },
    () => true,
    "the script's grandchild.pid",
    { everyMs: 20, timeoutMs: 5000 },
  );

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('resolved, expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('command driver: exit codes', () => {
  it.each([
    ['exit 0', 'succeeds', 'exit 0', undefined],
    ['exit 75 (EX_TEMPFAIL)', 'is retryable', 'echo "database busy" >&2; exit 75', 'unavailable'],
    ['an exit code configured as retryable', 'is retryable', 'exit 3', 'unavailable'],
    ['any other exit code', 'is not retryable', 'echo "access denied" >&2; exit 1', 'rejected'],
    ['a signal', 'is not retryable', 'kill -9 $$', 'rejected'],
  ])('%s %s', async (_what, _outcome, shell, kind) => {
    const d = driversOf({
      retryableExitCodes: [75, 3],
      commands: { listKeys: { shell: 'exit 1' }, setKey: { shell } },
    });
    const run = d.license.set('WHSandTMS', true);
    if (!kind) return expect(run).resolves.toBeUndefined();
    const err = await rejection(run);
    expect(err).toBeInstanceOf(CommandError);
    expect(d.classify(err)).toBe(kind);
    expect((err as Error).message).toContain(`setKey (${shell}) `);
  });

  it('names the command, its exit code and the end of its stderr', async () => {
    const d = driversOf({
      commands: { listKeys: { shell: 'exit 1' }, setKey: { shell: 'echo "access denied" >&2; exit 4' } },
    });
    await expect(d.license.set('K', true)).rejects.toThrow(
      'setKey (echo "access denied" >&2; exit 4) exited 4; stderr: access denied',
    );
  });

  it('a program that does not exist is not retried, and the message says where it was looked for', async () => {
    const d = driversOf({ commands: { listKeys: { shell: 'exit 1' }, setKey: { argv: ['./Set-Key.ps1'] } } });
    const err = await rejection(d.license.set('K', true));
    expect(d.classify(err)).toBe('rejected');
    expect((err as Error).message).toBe(
      `setKey (./Set-Key.ps1) could not start: ./Set-Key.ps1 was not found (ENOENT), on PATH or from ${dir}`,
    );
  });
});

describe('command driver: timeout and cancellation end the whole process group', () => {
  it('a command running past its timeout is killed with its children, and may be retried', async () => {
    const d = driversOf({
      commands: { listKeys: { shell: 'exit 1' }, setKey: { ...WITH_GRANDCHILD, timeout: '1s' } },
    });
    const run = rejection(d.license.set('K', true));
    grandchild = await grandchildPid();
    const err = await run;
    expect(d.classify(err)).toBe('unavailable');
    expect((err as Error).message).toMatch(
      /ran longer than its timeout of 1s and was killed with its process group/,
    );
    // SIGKILL was sent to the group before the error was thrown; the kernel needs a moment to end it.
    await until(
      () => running(grandchild!),
      (alive) => !alive,
      'the grandchild to end',
      GONE_AT_ONCE,
    );
  });

  it('a command that exits leaving a process that holds its output returns, and that process lives on', async () => {
    const d = driversOf({
      commands: { listKeys: { shell: 'exit 1' }, setKey: { shell: 'sleep 60 & echo $! > grandchild.pid' } },
    });
    const started = Date.now();
    await d.license.set('K', true);
    expect(Date.now() - started).toBeLessThan(5000);
    grandchild = await grandchildPid();
    expect(running(grandchild)).toBe(true);
  });

  it("cancellation kills the command with its children, then throws the signal's reason", async () => {
    const d = driversOf({ commands: { listKeys: { shell: 'exit 1' }, setKey: WITH_GRANDCHILD } });
    const controller = new AbortController();
    const reason = new Error('operator cancelled');
    const run = rejection(d.license.set('K', true, controller.signal));
    grandchild = await grandchildPid();
    controller.abort(reason);
    await expect(run).resolves.toBe(reason);
    await until(
      () => running(grandchild!),
      (alive) => !alive,
      'the grandchild to end',
      GONE_AT_ONCE,
    );
  });

  it('in an activity, the cancellation thrown is the CancelledFailure; a reason that is no Error gives an AbortError', async () => {
    const d = driversOf({ commands: { listKeys: { shell: 'exit 1' }, setKey: { shell: 'sleep 5' } } });
    const mock = new MockActivityEnvironment();
    const run = rejection(
      mock.run((signal: AbortSignal) => d.license.set('K', true, signal), mock.context.cancellationSignal),
    );
    setTimeout(() => mock.cancel(), 200);
    expect(await run).toBeInstanceOf(CancelledFailure);

    const controller = new AbortController();
    const aborted = rejection(d.license.set('K', true, controller.signal));
    setTimeout(() => controller.abort('stop'), 200);
    expect(await aborted).toMatchObject({ name: 'AbortError', message: 'setKey (sleep 5) was cancelled' });
  });
});

describe('command driver: secrets', () => {
  const canary = canaryValue();
  const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');
  /**
   * Says whether PASSWORD arrived whole (by its hash: the value itself is not in the script, which is
   * in argv), then prints it raw, JSON-escaped and in base64 (standard and URL-safe) to stdout and stderr.
   */
  const LEAK = `
    const v = process.env.PASSWORD;
    const forms = [v, JSON.stringify(v), Buffer.from(v).toString('base64'), Buffer.from(v).toString('base64url')].join(' ');
    console.log('arrived', require('crypto').createHash('sha256').update(v).digest('hex') === process.argv[1], forms);
    console.error('stderr', forms);
    process.exit(Number(process.env.EXIT_CODE));`;
  const settings = (exitCode: number) => ({
    env: { PASSWORD: 'pw:${env:CANARY}' },
    commands: {
      listKeys: { shell: 'exit 1' },
      setKey: { ...nodeScript(LEAK, sha256(`pw:${canary}`)), env: { EXIT_CODE: String(exitCode) } },
    },
  });

  it('a secret reaches the command in its environment, and in no form its errors, operation log, logs or plan', async () => {
    const entries: LogEntry[] = [];
    const mock = new MockActivityEnvironment(undefined, {
      logger: new DefaultLogger('TRACE', (entry) => entries.push(entry)),
    });
    const shown: string[] = [];
    for (const exitCode of [0, 1]) {
      const d = driversOf(settings(exitCode), { CANARY: canary });
      const { transcript } = await collectTranscript(() =>
        mock.run(() =>
          d.license
            .set('K', true)
            .catch((err: Error) => shown.push(err.message, err.stack!, JSON.stringify(err))),
        ),
      );
      shown.push(
        ...transcript,
        d.describe({ capability: 'license', call: 'setKey', key: 'K', enabled: true }),
      );
      if (exitCode === 0) expect(transcript.join('\n')).toContain('arrived true pw:${env:CANARY} ');
    }
    shown.push(
      ...entries.map((e) => JSON.stringify(e, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))),
    );
    expect(entries.length).toBeGreaterThanOrEqual(2);
    const all = shown.join('\n');
    expect(all).toContain('stderr: stderr pw:${env:CANARY}');
    for (const form of Object.values(canaryForms(`pw:${canary}`))) expect(all).not.toContain(form);
    expect(all).not.toContain(canary);
  });

  it("a command gets the inherited variables and its own, never the rest of the worker's environment", async () => {
    const d = driversOf(
      {
        env: { SHARED: 'shared' },
        commands: {
          listKeys: { shell: 'exit 1' },
          setKey: {
            shell:
              'echo "key=[$TEMPORAL_API_KEY]"; node -e "console.log(Object.keys(process.env).sort().join(\' \'))"',
            env: { OWN: 'own' },
          },
        },
      },
      { TEMPORAL_API_KEY: 'tk-123456789', WORKER_ONLY: 'w', LC_ALL: 'C.UTF-8' },
    );
    const { transcript } = await collectTranscript(() => d.license.set('K', true));
    const stdout = /stdout: (.*?)(; stderr|$)/.exec(transcript[0])![1];
    expect(stdout).toContain('key=[]');
    const names = stdout.split(' | ')[1].split(' ');
    expect(names).toEqual(
      expect.arrayContaining([
        'PATH',
        'HOME',
        'LC_ALL',
        'SHARED',
        'OWN',
        'MAINTENANCE_ENVIRONMENT',
        'MAINTENANCE_KEY',
      ]),
    );
    expect(names).not.toContain('TEMPORAL_API_KEY');
    expect(names).not.toContain('WORKER_ONLY');
    expect(names).not.toContain('JEST_WORKER_ID');
  });

  it('JSON is read before secrets are masked: a one-character secret neither breaks it nor shows itself', async () => {
    const d = driversOf(
      {
        env: { PIN: '${env:PIN}', USER_SECRET: '${env:USER_SECRET}' },
        commands: {
          readFlag: { shell: `echo '{"configurationMode":1}'` },
          writeFlag: { shell: 'exit 1' },
          listAos: { shell: 'exit 1' },
          restartAos: { shell: 'exit 1' },
          stopAos: { shell: 'exit 1' },
          probeUsers: {
            argv: [NODE, '-e', 'console.log(JSON.stringify({ administrator: process.env.USER_SECRET }))'],
          },
          signIn: { shell: 'exit 1' },
        },
      },
      { PIN: '1', USER_SECRET: canary },
    );
    expect(await d.flagStore.readConfigurationMode()).toBe(1);
    expect(await d.probe.probeUsers()).toEqual({ administrator: '${env:USER_SECRET}' });
  });

  it('a secret cut by the output limit is masked, not half shown', async () => {
    const settings = settingsOf({
      outputLimitBytes: 256,
      env: { CANARY: '${env:CANARY}' },
      commands: { setKey: nodeScript("process.stdout.write('x'.repeat(250) + process.env.CANARY)") },
    });
    const env = { ...process.env, CANARY: canary };
    const runner = new CommandRunner(settings, 'test-env', env, secretsFor(settings, env));
    const output = await runner.run('setKey', {});
    expect(output.stdout).toBe(`${'x'.repeat(250)}\${env:CANARY}`);
    expect(output.stdoutMore).toBe(Buffer.byteLength(canary) - 6);
  });

  it('a command whose secret the worker lacks is not run, and the error says which variable to set', async () => {
    const d = driversOf({
      env: { SQL_PASSWORD: '${env:NO_SUCH_PASSWORD}' },
      commands: {
        listKeys: { shell: 'exit 1' },
        setKey: { shell: 'touch side-effect', env: { TOKEN: '${env:NO_SUCH_TOKEN}' } },
      },
    });
    const err = await rejection(d.license.set('K', true));
    expect(d.classify(err)).toBe('rejected');
    expect((err as Error).message).toMatch(
      /^setKey \(.*\) was not run: .*the worker's environment has no variable NO_SUCH_PASSWORD, NO_SUCH_TOKEN: set them in the worker's environment$/,
    );
    expect(fs.existsSync(path.join(dir, 'side-effect'))).toBe(false);
  });

  it.each([
    ['an argument', { argv: ['curl', '-H', 'Authorization: Bearer ${env:API_TOKEN}'] }, 'setKey.argv.2'],
    [
      'a shell command line',
      { shell: "curl -H 'Authorization: Bearer ${env:API_TOKEN}' https://x" },
      'setKey.shell',
    ],
  ])('a secret in %s is refused, saying to move it to the command env', (_where, setKey, field) => {
    const parsed = commandSettingsSchema.safeParse({ driver: 'command', commands: { setKey } });
    expect(parsed.success).toBe(false);
    const issue = !parsed.success && parsed.error.issues[0];
    expect(issue && `${issue.path.join('.')}: ${issue.message}`).toMatch(
      new RegExp(
        `^commands\\.${field.replace('.', '\\.')}: \\$\\{env:API_TOKEN\\} may not be in .*Give it to the command in its env instead \\(env: \\{ API_TOKEN: "\\$\\{env:API_TOKEN\\}" \\}\\) and read it in the script as \\$env:API_TOKEN \\(PowerShell\\) or "\\$API_TOKEN" \\(sh\\)$`,
      ),
    );
  });
});

describe('command driver: output', () => {
  it('keeps the first outputLimitBytes of stdout and stderr and says how much more there was', async () => {
    const settings = settingsOf({
      outputLimitBytes: 1024,
      commands: {
        setKey: nodeScript(
          "process.stdout.write('o'.repeat(1 << 20)); process.stderr.write('e'.repeat(1 << 20)); process.exitCode = 1",
        ),
      },
    });
    const runner = new CommandRunner(settings, 'test-env', process.env, secretsFor(settings, {}));
    const { transcript, result } = await collectTranscript(() => rejection(runner.run('setKey', {})));
    expect(transcript[0]).toMatch(
      /stdout: …o{500} … 1047552 more bytes; stderr: …e{500} … 1047552 more bytes$/,
    );
    expect((result as Error).message).toMatch(/exited 1; stderr: …e{1000} … 1047552 more bytes$/);

    const ok = new CommandRunner(
      { ...settings, commands: { setKey: nodeScript("process.stdout.write('o'.repeat(1 << 20))") } },
      'test-env',
      process.env,
      secretsFor(settings, {}),
    );
    expect(await ok.run('setKey', {})).toEqual({
      stdout: 'o'.repeat(1024),
      stdoutMore: (1 << 20) - 1024,
      stderr: '',
      stderrMore: 0,
    });
  });

  it.each([
    [
      'output that is not JSON',
      'echo "CONFIGURATIONMODE=1"',
      /^readFlag \(echo "CONFIGURATIONMODE=1"\) printed output that is not JSON; it printed "CONFIGURATIONMODE=1", and should print \{"configurationMode": 0 \| 1\}$/,
    ],
    [
      'JSON of the wrong shape',
      `echo '{"configurationMode": 2}'`,
      /^readFlag \(.*\) printed JSON of the wrong shape: configurationMode: .*; it printed "\{\\"configurationMode\\": 2\}"/,
    ],
    [
      'more JSON than outputLimitBytes',
      `printf '{"configurationMode": 1%0300d}'`,
      /^readFlag \(.*\) printed 68 bytes more than outputLimitBytes \(256\), so its JSON cannot be read: raise outputLimitBytes/,
    ],
  ])('%s is reported with the command, and not retried', async (_what, shell, message) => {
    const d = driversOf({
      outputLimitBytes: 256,
      commands: { readFlag: { shell }, writeFlag: { shell: 'exit 1' } },
    });
    const err = await rejection(d.flagStore.readConfigurationMode());
    expect(d.classify(err)).toBe('rejected');
    expect((err as Error).message).toMatch(message);
  });
});

describe('command driver: a whole environment through commands', () => {
  const stateFile = () => path.join(dir, 'state.json');
  const state = () => JSON.parse(fs.readFileSync(stateFile(), 'utf8')) as { changes: string[]; keys: object };

  beforeEach(() => {
    if (!fs.existsSync(FAKE_ENVIRONMENT))
      throw new Error(`${FAKE_ENVIRONMENT} is missing: run npm run build first`);
    fs.writeFileSync(
      stateFile(),
      JSON.stringify({
        configurationMode: 0,
        aos: [
          { id: 'aos-1', role: 'interactive', status: 'running', maintenanceMode: false },
          { id: 'aos-2', role: 'batch', status: 'stopped', maintenanceMode: false },
          { id: 'aos-3', role: 'interactive', status: 'running', maintenanceMode: false },
        ],
        keys: { WHSandTMS: false },
        users: { administrator: 'admin', maintenanceUser: 'maint', regularUser: 'jane' },
        restartLeavesStopped: ['aos-3'],
        changes: [],
      }),
    );
  });

  it('reads and flips the flag, restarts and stops AOS, probes sign-in and sets keys', async () => {
    const d = driversOf({ env: { FAKE_ENVIRONMENT_STATE: stateFile() }, commands: FAKE_COMMANDS });
    const { transcript } = await collectTranscript(async () => {
      expect(await d.flagStore.readConfigurationMode()).toBe(0);
      expect(await d.flagStore.writeConfigurationMode(1)).toEqual({ previous: 0 });
      expect(await d.flagStore.writeConfigurationMode(1)).toEqual({ previous: 1 });
      expect(await d.aosControl.list()).toEqual([
        { id: 'aos-1', role: 'interactive', status: 'running', running: true, maintenanceMode: false },
        { id: 'aos-2', role: 'batch', status: 'stopped', running: false, maintenanceMode: null },
        { id: 'aos-3', role: 'interactive', status: 'running', running: true, maintenanceMode: false },
      ]);
      expect(await d.aosControl.restart('aos-1', await d.aosControl.list())).toMatchObject({
        id: 'aos-1',
        running: true,
        maintenanceMode: true,
      });
      expect(await d.aosControl.stop('aos-2')).toMatchObject({
        id: 'aos-2',
        running: false,
        status: 'stopped',
      });
      expect(await d.probe.probeUsers()).toEqual({
        administrator: 'admin',
        maintenanceUser: 'maint',
        regularUser: 'jane',
      });
      expect(await d.probe.signIn('aos-1', 'maint')).toEqual({
        allowed: true,
        detail: 'maint signed in on aos-1',
      });
      expect(await d.probe.signIn('aos-1', 'jane')).toEqual({
        allowed: false,
        detail: 'jane may not sign in on aos-1',
      });
      expect(await d.license.list()).toEqual({ WHSandTMS: false });
      await d.license.set('WHSandTMS', true);
      expect(await d.license.list()).toEqual({ WHSandTMS: true });
    });
    expect(state().changes).toEqual([
      'write-flag 1 (test-env)',
      'restart-aos aos-1 (test-env)',
      'stop-aos aos-2 (test-env)',
      'set-key WHSandTMS=1 (test-env)',
    ]);
    expect(transcript.map((line) => line.replace(/ in \d+\.\d s$/, ''))).toEqual([
      `writeFlag: MAINTENANCE_FLAG=1 ${NODE} ${FAKE_ENVIRONMENT} write-flag → exit 0`,
      `restartAos: MAINTENANCE_AOS_ID=aos-1 ${NODE} ${FAKE_ENVIRONMENT} restart-aos → exit 0`,
      `stopAos: MAINTENANCE_AOS_ID=aos-2 ${NODE} ${FAKE_ENVIRONMENT} stop-aos → exit 0`,
      `setKey: MAINTENANCE_KEY=WHSandTMS MAINTENANCE_KEY_ENABLED=1 ${NODE} ${FAKE_ENVIRONMENT} set-key → exit 0`,
    ]);
  });

  it('an AOS the environment does not list is refused without running anything', async () => {
    const d = driversOf({ env: { FAKE_ENVIRONMENT_STATE: stateFile() }, commands: FAKE_COMMANDS });
    const err = await rejection(d.aosControl.restart('aos-9', await d.aosControl.list()));
    expect(d.classify(err)).toBe('unknownAos');
    expect((err as Error).message).toBe(
      'aos-9 is not an AOS of environment test-env: listAos lists aos-1, aos-2, aos-3',
    );
    expect(state().changes).toEqual([]);
  });

  it('a restart checks the ID against the listing its caller took just before, and lists again only after it', async () => {
    const lists = path.join(dir, 'lists');
    const counted = { shell: `echo listed >> '${lists}'; exec '${NODE}' '${FAKE_ENVIRONMENT}' list-aos` };
    const d = driversOf({
      env: { FAKE_ENVIRONMENT_STATE: stateFile() },
      commands: { ...FAKE_COMMANDS, listAos: counted },
    });
    const listings = () => fs.readFileSync(lists, 'utf8').trim().split('\n').length;
    const listed = await d.aosControl.list();
    expect((await d.aosControl.restart('aos-1', listed)).running).toBe(true);
    expect(listings()).toBe(2); // the caller's, and the one after the restart
    const err = await rejection(d.aosControl.restart('aos-9', listed));
    expect(d.classify(err)).toBe('unknownAos');
    expect(listings()).toBe(2);
    expect(state().changes).toEqual(['restart-aos aos-1 (test-env)']);
  });

  it('a restart that exits 0 but leaves the AOS down may be retried', async () => {
    const d = driversOf({ env: { FAKE_ENVIRONMENT_STATE: stateFile() }, commands: FAKE_COMMANDS });
    const err = await rejection(d.aosControl.restart('aos-3', await d.aosControl.list()));
    expect(d.classify(err)).toBe('unavailable');
    expect((err as Error).message).toBe('restartAos exited 0 but aos-3 is stopped');
  });

  it('a key the environment refuses to set fails with what it said', async () => {
    const d = driversOf({ env: { FAKE_ENVIRONMENT_STATE: stateFile() }, commands: FAKE_COMMANDS });
    await expect(d.license.set('WHSandTMS', true)).rejects.toThrow(
      /^setKey \(.*set-key\) exited 1; stderr: License configuration is read-only outside maintenance mode$/,
    );
    expect(state().keys).toEqual({ WHSandTMS: false });
  });

  it('without probe commands there is nobody to try; without key commands the error says what to add', async () => {
    const { readFlag, writeFlag, listAos, restartAos, stopAos } = FAKE_COMMANDS;
    const d = driversOf({ commands: { readFlag, writeFlag, listAos, restartAos, stopAos } });
    expect(await d.probe.probeUsers()).toEqual({});
    for (const call of [d.license.list(), d.license.set('K', true)]) {
      const err = await rejection(call);
      expect(d.classify(err)).toBe('rejected');
      expect((err as Error).message).toMatch(
        /^environment test-env has no (listKeys|setKey) command: add commands.listKeys, commands.setKey \(license\) to its command settings$/,
      );
    }
  });
});

describe('command driver: plan', () => {
  it('describes the exact command a change would run, with its variables, arguments quoted and secrets masked', () => {
    const d = driversOf(
      {
        commands: {
          writeFlag: {
            argv: ['pwsh', '-NoProfile', '-File', './Set-Flag.ps1', '-Server', 'sql-hunter2-secret'],
            env: { SQL_PASSWORD: '${env:SQL_PASSWORD}' },
          },
          restartAos: { shell: 'Restart-Service "AOS $MAINTENANCE_AOS_ID"' },
          setKey: { argv: ['./set key.sh', "it's"] },
        },
      },
      { SQL_PASSWORD: 'hunter2-secret' },
    );
    const plan = (call: PlannedCall) => d.describe(call);
    expect(plan({ capability: 'flagStore', call: 'writeFlag', value: 1 })).toBe(
      'MAINTENANCE_FLAG=1 pwsh -NoProfile -File ./Set-Flag.ps1 -Server sql-${env:SQL_PASSWORD} (skipped when CONFIGURATIONMODE is already 1)',
    );
    expect(plan({ capability: 'aosControl', call: 'restartAos', aosId: 'aos-2' })).toBe(
      'MAINTENANCE_AOS_ID=aos-2 Restart-Service "AOS $MAINTENANCE_AOS_ID"',
    );
    expect(plan({ capability: 'license', call: 'setKey', key: 'Retail keys', enabled: false })).toBe(
      `MAINTENANCE_KEY='Retail keys' MAINTENANCE_KEY_ENABLED=0 './set key.sh' 'it'\\''s'`,
    );
    expect(plan({ capability: 'aosControl', call: 'stopAos', aosId: 'aos-2' })).toBe(
      "no stopAos command: add commands.stopAos to the environment's command settings",
    );
  });
});

describe('command driver: impact', () => {
  const REPORT = {
    users: { count: 7, names: ['Alice', 'Bob', 'Carol', 'Dan', 'Eve', 'Frank', 'Grace'] },
    batchJobs: [
      { name: 'Post invoices', status: 'executing' },
      { name: 'Nightly MRP', status: 'waiting', startsAt: '2026-12-05T02:00:00Z' },
      { name: 'Weekly cleanup', status: 'waiting', startsAt: '2026-12-09T02:00:00Z' },
    ],
  };
  const printing = (value: unknown) => nodeScript(`console.log(${JSON.stringify(JSON.stringify(value))})`);

  it('without a readImpact command the driver has no impact, and the preview says it is not available', async () => {
    const d = driversOf({ commands: {} });
    expect(d.impact).toBeUndefined();
    expect(await readImpact(d, undefined)).toEqual({
      available: false,
      reason: 'not available from this driver',
    });
    expect(formatImpact(await readImpact(d, undefined))).toEqual(['impact: not available from this driver']);
  });

  it('reads the JSON of readImpact (zod), masks secrets in it, and the preview keeps the jobs due by the end, five names', async () => {
    const canary = canaryValue();
    const d = driversOf(
      {
        env: { TOKEN: '${env:CANARY}' },
        commands: {
          readImpact: nodeScript(
            `console.log(JSON.stringify({ ...${JSON.stringify(REPORT)}, integrations: [{ name: 'EDI', detail: 'token ' + process.env.TOKEN }], until: undefined }))`,
          ),
        },
      },
      { CANARY: canary },
    );
    const report = await d.impact!.read('2026-12-06T00:00:00Z');
    expect(report.integrations).toEqual([{ name: 'EDI', detail: 'token ${env:CANARY}' }]);
    const preview = previewOf(report, '2026-12-06T00:00:00Z');
    expect(preview).toMatchObject({
      users: { count: 7, names: ['Alice', 'Bob', 'Carol', 'Dan', 'Eve'] },
      batchJobs: { count: 2, listed: [{ name: 'Post invoices' }, { name: 'Nightly MRP' }] },
      integrations: { count: 1 },
    });
    expect(formatImpact(preview)).toEqual([
      'impact: 7 signed-in users (Alice, Bob, Carol, Dan, Eve, and 2 more)',
      'impact: 2 batch jobs running or due before 2026-12-06T00:00:00Z: Post invoices (running), Nightly MRP (due 2026-12-05T02:00:00Z)',
      'impact: 1 active integration: EDI (token ${env:CANARY})',
    ]);
    expect(JSON.stringify(preview)).not.toContain(canary);
  });

  it('output of the wrong shape gives a preview that says why, never a failure', async () => {
    const d = driversOf({
      commands: { readImpact: printing({ users: { count: -1 }, batchJobs: [] }) },
    });
    const preview = await readImpact(d, 30 * 60_000);
    expect(preview.available).toBe(false);
    expect(!preview.available && preview.reason).toMatch(
      /^could not be read \(readImpact .* printed JSON of the wrong shape: users\.count: Number must be greater than or equal to 0/,
    );
  });

  it('the command gets MAINTENANCE_UNTIL: now and the duration (an hour for an enable)', async () => {
    const d = driversOf({
      commands: {
        readImpact: nodeScript(
          'console.log(JSON.stringify({ users: { count: 1, names: [process.env.MAINTENANCE_UNTIL] }, batchJobs: [] }))',
        ),
      },
    });
    for (const [duration, ms] of [
      [30 * 60_000, 30 * 60_000],
      [undefined, 60 * 60_000],
    ] as const) {
      const started = Date.now();
      const preview = await readImpact(d, duration);
      if (!preview.available) throw new Error(preview.reason);
      expect(preview.users.names).toEqual([preview.until]);
      expect(Date.parse(preview.until) - started).toBeGreaterThanOrEqual(ms);
      expect(Date.parse(preview.until) - started).toBeLessThan(ms + 5000);
    }
  });
});
