import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { buildPlan, type PlanFacts } from '../../activities/plan';
import { ConfigError, loadConfig } from '../../config/load';
import type { DriverSettings } from '../../config/schema';
import { workerSecrets } from '../../config/secrets';
import { createDrivers } from '../../drivers';
import type { AosState } from '../../drivers/capabilities';

/**
 * The shipped profiles of real environments (examples/): they load, broken variants are refused with
 * a message naming the field, and their dry-run plans list the exact commands with secrets masked.
 * The d365 profiles cannot run here (PowerShell, SQL Server, Service Fabric): this is their check.
 */
const examples = path.resolve(__dirname, '../../examples');
const profile = (name: string) => path.join(examples, name, 'temporal.yaml');
const CANARY = 'canary-9f1c2e-secret';
const workerEnv = {
  AXDB_PASSWORD: CANARY,
  SF_SERVER_CERT_THUMBPRINT: `${CANARY}-server`,
  SF_CLIENT_CERT_THUMBPRINT: `${CANARY}-client`,
  PPAC_CLIENT_SECRET: `${CANARY}-ppac`,
};

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'profiles-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A profile's environment as YAML gives it, to break on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any shape, that is the point
type Profile = Record<string, any>;

/** The profile with `change` applied to its one environment (and the whole file), written next to a copy of it. */
function variant(name: string, change: (env: Profile, doc: Profile) => void): string {
  const doc = YAML.parse(fs.readFileSync(profile(name), 'utf8'));
  const [environment] = Object.values(doc.environments) as Profile[];
  change(environment, doc);
  const file = path.join(dir, `${name}-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}

const refusal = (file: string) => {
  try {
    loadConfig(file, {});
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected the configuration to be refused');
};

describe('the shipped profiles load', () => {
  it.each(['fleet-commands', 'd365-onebox', 'd365-onprem', 'd365-ppac'])('%s', (name) => {
    const config = loadConfig(profile(name), {});
    const [env] = Object.values(config.environments);
    const commandsOf = (s: DriverSettings | undefined) =>
      s?.driver === 'command' ? Object.keys(s.commands) : [];
    const served = [env, ...Object.values(env.capabilities)].flatMap(commandsOf);
    expect(served).toEqual(
      expect.arrayContaining(['readFlag', 'writeFlag', 'listAos', 'restartAos', 'stopAos']),
    );
  });

  it.each(['fleet-commands', 'd365-onebox', 'd365-onprem'])(
    '%s tells who is affected (readImpact)',
    (name) => {
      const [env] = Object.values(loadConfig(profile(name), {}).environments);
      const served = env.capabilities.impact ?? env;
      expect(served.driver === 'command' && served.commands.readImpact).toBeTruthy();
    },
  );

  it.each([
    ['d365-onebox', ['beforeEnable', 'afterEnable', 'afterDisable']],
    ['d365-onprem', ['beforeEnable', 'afterDisable']],
  ])('%s runs hooks (%s) that refuse on failure, their webhook a masked secret', (name, hooks) => {
    const config = loadConfig(profile(name), {});
    const [env] = Object.values(config.environments);
    expect(env.hooks).toMatchObject({
      onFailure: 'refuse',
      env: { NOTICE_WEBHOOK_URL: '${env:NOTICE_WEBHOOK_URL}' },
    });
    expect(hooks.every((h) => env.hooks?.[h as 'beforeEnable'])).toBe(true);
    const url = `https://hooks.example/${CANARY}`;
    expect(workerSecrets(config, { NOTICE_WEBHOOK_URL: url }).mask(`posted to ${url}`)).not.toContain(CANARY);
  });

  it('d365-onprem is protected and takes its secrets from the worker environment', () => {
    const env = loadConfig(profile('d365-onprem'), {}).environments['contoso-prod'];
    expect(env).toMatchObject({
      driver: 'command',
      protected: true,
      env: { AXDB_PASSWORD: '${env:AXDB_PASSWORD}' },
    });
  });
});

describe('broken variants are refused, naming the field', () => {
  it.each([
    [
      'd365-onebox',
      'a capability missing a command',
      (e: Profile) => delete e.commands.stopAos,
      /environments\.onebox\.commands: aosControl through commands needs stopAos/,
    ],
    [
      'd365-onebox',
      'probe commands without signIn',
      (e: Profile) => delete e.commands.signIn,
      /environments\.onebox\.commands: probe through commands needs signIn/,
    ],
    [
      'd365-onebox',
      'a command with an empty argv',
      (e: Profile) => (e.commands.readFlag = { argv: [] }),
      /environments\.onebox\.commands\.readFlag\.argv: Array must contain at least 1 element/,
    ],
    [
      'd365-onprem',
      'a timeout that is not a duration',
      (e: Profile) => (e.timeout = 'twenty minutes'),
      /environments\.contoso-prod\.timeout: expected a duration/,
    ],
    [
      'd365-onprem',
      'exit code 0 as retryable',
      (e: Profile) => (e.retryableExitCodes = [0]),
      /environments\.contoso-prod\.retryableExitCodes\.0: Number must be greater than or equal to 1/,
    ],
    [
      'd365-onprem',
      'a variable name with a dash',
      (e: Profile) => (e.env['AXDB-PASSWORD'] = 'x'),
      /environments\.contoso-prod\.env\.AXDB-PASSWORD: variable names are letters, digits and underscores/,
    ],
    [
      'd365-onprem',
      'a misspelt command',
      (e: Profile) => (e.commands.restartAOS = e.commands.restartAos),
      /environments\.contoso-prod\.commands: Unrecognized key\(s\) in object: 'restartAOS'/,
    ],
    [
      'd365-onebox',
      'the setup tool with its password as an argument',
      (e: Profile) =>
        (e.commands.writeFlag = {
          argv: ['pwsh', '-File', 'Set-FlagWithSetupTool.ps1', '-SqlPassword', '${env:AXDB_PASSWORD}'],
        }),
      /environments\.onebox\.commands\.writeFlag\.argv\.4: \$\{env:AXDB_PASSWORD\} may not be in an argument: .*\(ps, \/proc\)\. Give it to the command in its env instead \(env: \{ AXDB_PASSWORD: "\$\{env:AXDB_PASSWORD\}" \}\) and read it in the script as \$env:AXDB_PASSWORD \(PowerShell\) or "\$AXDB_PASSWORD" \(sh\)/,
    ],
    [
      'd365-onprem',
      'a secret in a shell command line',
      (e: Profile) =>
        (e.commands.readFlag = { shell: "curl -H 'Authorization: Bearer ${env:API_TOKEN}' https://x" }),
      /environments\.contoso-prod\.commands\.readFlag\.shell: \$\{env:API_TOKEN\} may not be in a shell command line: there it would run as shell code/,
    ],
    [
      'd365-onebox',
      'a hook with a secret as an argument',
      (e: Profile) =>
        (e.hooks.beforeEnable = { argv: ['pwsh', '-File', 'Invoke-Hook.ps1', '${env:NOTICE_WEBHOOK_URL}'] }),
      /environments\.onebox\.hooks\.beforeEnable\.argv\.3: \$\{env:NOTICE_WEBHOOK_URL\} may not be in an argument/,
    ],
    [
      'd365-onebox',
      'a misspelt hook',
      (e: Profile) => (e.hooks.beforeEnabled = e.hooks.beforeEnable),
      /environments\.onebox\.hooks: Unrecognized key\(s\) in object: 'beforeEnabled'/,
    ],
    [
      'd365-onprem',
      'an unknown failure policy',
      (e: Profile) => (e.hooks.onFailure = 'ignore'),
      /environments\.contoso-prod\.hooks\.onFailure: onFailure is "refuse" \(a failed before hook refuses the operation, nothing changed\) or "decide"/,
    ],
    [
      'd365-onprem',
      'hooks without any hook',
      (e: Profile) => (e.hooks = { onFailure: 'refuse' }),
      /environments\.contoso-prod\.hooks: hooks: give at least one of beforeEnable, afterEnable, beforeDisable, afterDisable/,
    ],
    [
      'd365-ppac',
      'the client secret as an argument',
      (e: Profile) => e.commands.readFlag.argv.push('-ClientSecret', '${env:PPAC_CLIENT_SECRET}'),
      /environments\.contoso-unified\.commands\.readFlag\.argv\.6: \$\{env:PPAC_CLIENT_SECRET\} may not be in an argument/,
    ],
    [
      'd365-ppac',
      'AOS control left out (the no-op must be declared)',
      (e: Profile) => {
        delete e.commands.restartAos;
        delete e.commands.stopAos;
      },
      /environments\.contoso-unified\.commands: aosControl through commands needs restartAos and stopAos/,
    ],
    [
      'fleet-commands',
      'an unknown capability',
      (e: Profile) => (e.capabilities.flag = e.capabilities.flagStore),
      /environments\.contoso-sandbox\.capabilities: Unrecognized key\(s\) in object: 'flag'/,
    ],
  ])('%s: %s', (name, _what, change, message) => {
    expect(refusal(variant(name, change))).toMatch(message);
  });
});

describe('activity timeouts: every command of an activity, run to its timeout, fits the activity', () => {
  it.each([
    ['d365-onebox', '20m', 'restartAos', '18m 12s', 'readFlag 1m, listAos 2 × 1m, restartAos 15m', '19m'],
    [
      'd365-onprem',
      '30m',
      'restartAos',
      '24m 42s',
      'readFlag 1m 30s, listAos 2 × 1m 30s, restartAos 20m',
      '25m',
    ],
    ['fleet-commands', '5m', 'restartAos', '3m 42s', 'readFlag 30s, listAos 2 × 30s, restartAos 2m', '4m'],
    ['d365-ppac', '35m', 'setConfigurationMode', '31m 6s', 'readFlag 1m, writeFlag 30m', '32m'],
  ])(
    '%s sets policies.activity.startToCloseTimeout %s, which its longest activity (%s, %s) fits',
    (name, timeout, activity, longest, commands, atLeast) => {
      expect(loadConfig(profile(name), {}).policies.activity.startToCloseTimeout).toBe(timeout);
      // Without its policies it would have the default 2m: refused, naming both numbers and what to set.
      const message = refusal(variant(name, (_env, doc) => delete doc.policies));
      expect(message).toContain(
        `policies.activity.startToCloseTimeout: 2m is shorter than the ${activity} activity of environment ` +
          `${Object.keys(loadConfig(profile(name), {}).environments)[0]} can take: up to ${longest}, for the ` +
          `commands on its longest path (${commands}), each given up to 3s more to end once its timeout kills it.`,
      );
      expect(message).toContain(`Set policies.activity.startToCloseTimeout to ${atLeast} or more`);
    },
  );

  it('a restart given longer than the policy allows is refused, naming both numbers', () => {
    const message = refusal(variant('d365-onebox', (e) => (e.commands.restartAos.timeout = '30m')));
    expect(message).toMatch(
      /policies\.activity\.startToCloseTimeout: 20m is shorter than the restartAos activity of environment onebox can take: up to 33m 12s,/,
    );
    expect(message).toContain(
      'Set policies.activity.startToCloseTimeout to 34m or more, or give these commands shorter timeouts',
    );
  });

  it('a read command longer than a dry run allows is refused, naming the dry run’s fixed 2m', () => {
    const message = refusal(variant('d365-onprem', (e) => (e.commands.listAos.timeout = '5m')));
    expect(message).toContain(
      'environments.contoso-prod: the planOperation activity of a dry run (maint plan) has 2m, fixed by the workflow, ' +
        'for read-only commands run at once, but can take up to 5m 3s here, for the commands on its longest path (listAos 5m)',
    );
    expect(message).toContain('a timeout of at most 1m 57s');
  });
});

describe('dry-run plans of the d365 profiles list the commands, secrets masked', () => {
  const aos = (id: string, role: 'interactive' | 'batch'): AosState => ({
    id,
    role,
    running: true,
    status: 'running',
    maintenanceMode: false,
  });
  const facts: PlanFacts = {
    configurationMode: 0,
    aos: [aos('AOS1', 'interactive'), aos('AOS2', 'interactive'), aos('AOS3', 'batch')],
    users: {},
    protected: true,
    approvers: ['cab.chair', 'ops.lead'],
    approvalTimeout: '24h',
  };

  it('d365-onprem: the SQL flag script, the restart and the stop of each node', () => {
    const config = loadConfig(profile('d365-onprem'), {});
    const drivers = createDrivers(config.environments['contoso-prod'], {
      environment: 'contoso-prod',
      env: workerEnv,
      secrets: workerSecrets(config, workerEnv),
    });
    const plan = buildPlan(
      { environment: 'contoso-prod', action: 'enable', requestedBy: 'jane' },
      facts,
      drivers.describe,
    );
    const text = JSON.stringify(plan);
    expect(plan.steps[0]).toEqual({
      step: 'approval',
      does: [
        'prove the requester: a start signed with their SSH key, or a run its schedule started (protected environment)',
        'wait up to 24h for an approval signed by one of cab.chair, ops.lead other than the requester',
      ],
    });
    expect(plan.steps.find((s) => s.step === 'flipFlag')!.does).toEqual([
      'MAINTENANCE_FLAG=1 pwsh -NoProfile -NonInteractive -File Set-Flag.ps1 (skipped when CONFIGURATIONMODE is already 1)',
    ]);
    expect(plan.steps.find((s) => s.step.startsWith('restartAos'))!.does).toEqual([
      'MAINTENANCE_AOS_ID=AOS1 pwsh -NoProfile -NonInteractive -File Restart-AosNode.ps1',
      'MAINTENANCE_AOS_ID=AOS2 pwsh -NoProfile -NonInteractive -File Stop-AosNode.ps1',
      'MAINTENANCE_AOS_ID=AOS3 pwsh -NoProfile -NonInteractive -File Restart-AosNode.ps1',
    ]);
    expect(text).toContain('sign-in not probed');
    expect(text).not.toContain(CANARY);
  });

  it('d365-ppac: administration mode as the flag, the AOS a no-op that says so, sign-ins still checked', () => {
    const config = loadConfig(profile('d365-ppac'), {});
    const drivers = createDrivers(config.environments['contoso-unified'], {
      environment: 'contoso-unified',
      env: workerEnv,
      secrets: workerSecrets(config, workerEnv),
    });
    // As Get-Environment.ps1 shows it: one interactive and one batch instance standing for the environment.
    const ppac = {
      ...facts,
      protected: false,
      aos: [aos('ppac-interactive', 'interactive'), aos('ppac-batch', 'batch')],
      users: {
        administrator: 'admin@contoso.com',
        maintenanceUser: 'customizer@contoso.com',
        regularUser: 'clerk@contoso.com',
      },
    };
    const plan = buildPlan(
      { environment: 'contoso-unified', action: 'enable', requestedBy: 'jane' },
      ppac,
      drivers.describe,
    );
    expect(plan.steps.find((s) => s.step === 'flipFlag')!.does).toEqual([
      'MAINTENANCE_FLAG=1 pwsh -NoProfile -NonInteractive -File Set-AdminMode.ps1 (skipped when CONFIGURATIONMODE is already 1)',
    ]);
    const noOp = (id: string) =>
      `MAINTENANCE_AOS_ID=${id} pwsh -NoProfile -NonInteractive -File Skip-Aos.ps1 -Because 'no-op: Microsoft runs the AOS, administration mode needs no restart'`;
    expect(plan.steps.find((s) => s.step.startsWith('restartAos'))!.does).toEqual([
      noOp('ppac-interactive'),
      noOp('ppac-batch'),
    ]);
    expect(plan.steps.find((s) => s.step === 'verify')!.does).toEqual([
      'check CONFIGURATIONMODE = 1',
      'check exactly one interactive and one batch AOS run, both in maintenance mode',
      'check that admin@contoso.com signs in',
      'check that customizer@contoso.com signs in',
      'check that clerk@contoso.com is refused',
    ]);
    expect(JSON.stringify(plan)).not.toContain(CANARY);
  });

  it('d365-onebox with the setup tool: its password goes in the command environment, never in the plan', () => {
    const file = variant('d365-onebox', (e: Profile) => {
      e.commands.writeFlag = {
        argv: ['pwsh', '-File', 'Set-FlagWithSetupTool.ps1'],
        env: { AXDB_PASSWORD: '${env:AXDB_PASSWORD}' },
      };
    });
    const config = loadConfig(file, {});
    const drivers = createDrivers(config.environments.onebox, {
      environment: 'onebox',
      env: workerEnv,
      secrets: workerSecrets(config, workerEnv),
    });
    const onebox = { ...facts, protected: false, aos: [aos('aos', 'interactive'), aos('batch', 'batch')] };
    const plan = buildPlan(
      { environment: 'onebox', action: 'disable', requestedBy: 'jane' },
      { ...onebox, configurationMode: 1 },
      drivers.describe,
    );
    expect(plan.steps.find((s) => s.step === 'flipFlag')!.does).toEqual([
      'MAINTENANCE_FLAG=0 pwsh -File Set-FlagWithSetupTool.ps1 (skipped when CONFIGURATIONMODE is already 0)',
    ]);
    expect(JSON.stringify(plan)).not.toContain(CANARY);
  });
});
