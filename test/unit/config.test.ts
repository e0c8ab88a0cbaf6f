import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cronProblem } from '../../config/cron';
import { connectionOptions } from '../../config/connection';
import { ConfigError, loadConfig } from '../../config/load';
import { scheduledWorkflowOf } from '../../config/schema';
import { fleetSettingsOf } from '../../drivers/fleet/settings';
import { metricsExporter, metricsUrl } from '../../worker/metrics';
import { CACHED_WORKFLOW_MIB, WORKER_BASE_MIB, optionsForMemoryBudget } from '../../worker/memory-budget';

const shipped = path.resolve(__dirname, '../../temporal.yaml');
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Two people with real public keys (ssh-keygen's), for protected environments. */
const CAB_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ1pwQs9mLtlvui/wUUvqvLKG+dZaIlmeDolR5UwsFFJ cab@example';
const OPS_KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILSSmPMNmxnyx/ts3RqltfSXg4oOogN3TOmU2lvb0EEI ops@example';
const people = `people:\n  cab: ${CAB_KEY}\n  ops: [${OPS_KEY}]\n`;

/** The message of the ConfigError that loading `file` throws. */
function refusal(file: string): string {
  let error: unknown;
  try {
    loadConfig(file, {});
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message;
}

const minimal = `
environments:
  dev-box:
    driver: fleet
    supervisorPort: 9000
    database: fleet/dev-box.db
    topology: { interactive: 1, batch: 1 }
`;

describe('loadConfig', () => {
  it('accepts the shipped temporal.yaml with contoso-sandbox of 3 interactive and 2 batch AOS', () => {
    const config = loadConfig(shipped, {});
    expect(config.temporal).toMatchObject({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'maintenance',
    });
    expect(config.environments['contoso-sandbox']).toMatchObject({
      driver: 'fleet',
      topology: { interactive: 3, batch: 2 },
    });
    expect(config.devServer.uiPort).toBe(8233);
    expect(config.policies.activity.retry.maximumAttempts).toBe(5);
    expect(config.installation).toBe('default');
  });

  it('fills defaults and makes paths absolute, relative to the file', () => {
    const file = write('minimal.yaml', minimal);
    const config = loadConfig(file, {});
    expect(fleetSettingsOf(config.environments['dev-box']).database).toBe(path.join(dir, 'fleet/dev-box.db'));
    expect(config.devServer.database).toBe(path.join(dir, 'data/temporal.db'));
    // Workers keep nothing on disk: the history lives in Temporal; only `maint upgrade` reads an old file.
    expect(config.history).toEqual({ keep: 2000, continueAsNewAfterEvents: 5000 });
    expect(config.policies.lockCheckInterval).toBe('5m');
    const upgrading = loadConfig(
      write('upgrading.yaml', `${minimal}\nhistory:\n  database: data/history.db\n`),
      {},
    );
    expect(upgrading.history.database).toBe(path.join(dir, 'data/history.db'));
    expect(config.policies.activity).toEqual({
      startToCloseTimeout: '2m',
      heartbeatTimeout: '20s',
      retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5 },
    });
  });

  it('lets TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and TEMPORAL_API_KEY override the file', () => {
    const config = loadConfig(write('env.yaml', minimal), {
      TEMPORAL_ADDRESS: 'temporal.example:7233',
      TEMPORAL_NAMESPACE: 'ops',
      TEMPORAL_API_KEY: 'secret-key',
    });
    expect(config.temporal.address).toBe('temporal.example:7233');
    expect(config.temporal.namespace).toBe('ops');
    expect(config.apiKey).toBe('secret-key');
  });

  it('refuses a YAML alias bomb with a ConfigError saying what is wrong, and still takes a few aliases', () => {
    // Each level refers to the one before nine times: 9^10 values once expanded.
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 10; i++)
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const file = write('bomb.yaml', `${minimal}bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\n`);
    expect(refusal(file)).toBe(
      `${file} is not valid YAML:\n  - Excessive alias count indicates a resource exhaustion attack: its aliases ` +
        '(*name) expand too much. Refer to each anchor (&name) only a few times, or write the values out',
    );
    const few = `${minimal}    tags: &tags [sandbox]\n  other-box:\n    driver: fleet\n    supervisorPort: 9001\n    database: fleet/other.db\n    topology: { interactive: 1, batch: 1 }\n    tags: *tags\n`;
    expect(loadConfig(write('aliases.yaml', few), {}).environments['other-box'].tags).toEqual(['sandbox']);
  });

  it('never takes an API key from the file', () => {
    const file = write('key.yaml', `temporal:\n  apiKey: leaked\n${minimal}`);
    expect(() => loadConfig(file, {})).toThrow(/temporal: Unrecognized key\(s\) in object: 'apiKey'/);
  });

  it.each([
    [
      'a wrong type',
      minimal.replace('batch: 1', 'batch: two'),
      /environments\.dev-box\.topology\.batch: Expected number, received string/,
    ],
    [
      'an unknown driver',
      minimal.replace('driver: fleet', 'driver: lcs'),
      /environments\.dev-box\.driver: Invalid discriminator value. Expected 'fleet'/,
    ],
    [
      'a bad environment name',
      minimal.replace('dev-box', 'Dev Box'),
      /environments\.Dev Box: environment names are lower-case/,
    ],
    ['no environments', 'temporal:\n  namespace: x\n', /environments: Required/],
    [
      'a bad duration',
      `policies:\n  activity:\n    heartbeatTimeout: soon\n${minimal}`,
      /policies\.activity\.heartbeatTimeout: expected a duration/,
    ],
    [
      'an installation id with capitals',
      `installation: Ops EU\n${minimal}`,
      /installation: installation ids are lower-case letters, digits and dashes/,
    ],
    [
      'half a client certificate pair',
      `temporal:\n  tls:\n    clientCert: c.pem\n${minimal}`,
      /temporal\.tls: clientCert and clientKey go together/,
    ],
  ])('rejects %s with the file name and the field path', (_name, text, expected) => {
    const file = write('bad.yaml', text);
    const message = refusal(file);
    expect(message).toContain(file);
    expect(message).toMatch(expected);
  });

  const schedule = (fields: string) =>
    `${minimal}schedules:\n  - id: weekly\n    environment: dev-box\n${fields}`;
  const good = '    cron: "0 2 * * SUN"\n    timezone: Europe/Berlin\n    duration: PT2H\n';

  it('accepts a schedule and fills its defaults', () => {
    const config = loadConfig(write('schedule.yaml', schedule(good)), {});
    expect(config.schedules).toEqual([
      {
        id: 'weekly',
        environment: 'dev-box',
        cron: '0 2 * * SUN',
        timezone: 'Europe/Berlin',
        duration: 'PT2H',
        reason: '',
        changes: { enable: [], disable: [] },
        paused: false,
      },
    ]);
  });

  it.each([
    [
      'a cron expression of four fields',
      good.replace('0 2 * * SUN', '0 2 * *'),
      /schedules\.0\.cron: a cron expression has five fields/,
    ],
    [
      'an unknown time zone',
      good.replace('Europe/Berlin', 'Mars/Olympus'),
      /schedules\.0\.timezone: unknown time zone/,
    ],
    [
      'cron and calendar together',
      `${good}    calendar: { hour: 2 }\n`,
      /schedules\.0: give either cron or calendar/,
    ],
    [
      'a duration that is not one',
      good.replace('PT2H', 'two hours'),
      /schedules\.0\.duration: "two hours" is not a duration/,
    ],
    [
      'a key both enabled and disabled',
      `${good}    changes: { enable: [A], disable: [A] }\n`,
      /schedules\.0\.changes: a configuration key cannot be both enabled and disabled/,
    ],
    [
      'a calendar day that does not exist',
      '    calendar: { dayOfWeek: SUNDAYS }\n    duration: 60\n',
      /schedules\.0\.calendar\.dayOfWeek/,
    ],
  ])('rejects a schedule with %s', (_name, fields, expected) => {
    expect(() => loadConfig(write('bad-schedule.yaml', schedule(fields)), {})).toThrow(expected);
  });

  it('takes the installation id from the file, "default" when it is not given', () => {
    expect(loadConfig(write('installation.yaml', `installation: ops-eu\n${minimal}`), {}).installation).toBe(
      'ops-eu',
    );
    expect(loadConfig(write('no-installation.yaml', minimal), {}).installation).toBe('default');
  });

  it('names the cron field that is out of range, with the file and the schedule', () => {
    expect(() =>
      loadConfig(write('cron.yaml', schedule(good.replace('0 2 * * SUN', '0 25 * * SUN'))), {}),
    ).toThrow(/schedules\.0\.cron: cron field 2 \(hour\) "25" is out of range 0-23/);
  });

  it('rejects a schedule for an undeclared environment and a schedule id used twice', () => {
    const text = `${schedule(good)}  - id: weekly\n    environment: prod\n${good}`;
    expect(() => loadConfig(write('twice.yaml', text), {})).toThrow(
      /schedules\.1\.id: "weekly" is declared twice/,
    );
    expect(() => loadConfig(write('twice.yaml', text), {})).toThrow(
      /schedules\.1\.environment: unknown environment "prod"; declared: dev-box/,
    );
  });

  it('takes protected and approvalTimeout (default false and 24h) and a standing approval on a protected environment only, never by its requester', () => {
    const defaults = loadConfig(write('unprotected.yaml', minimal), {});
    expect(defaults.environments['dev-box'].protected).toBe(false);
    expect(defaults.policies.approvalTimeout).toBe('24h');
    const prot = `${people}${minimal.replace('driver: fleet', 'driver: fleet\n    protected: true\n    approvers: [cab]')}`;
    const standing = `${prot}schedules:\n  - id: weekly\n    environment: dev-box\n${good}    approvedBy: cab\n`;
    expect(loadConfig(write('standing.yaml', standing), {}).schedules[0].approvedBy).toBe('cab');
    const self = `${standing}    requestedBy: ' CAB'\n`;
    expect(() => loadConfig(write('self.yaml', self), {})).toThrow(
      /schedules\.0\.approvedBy: approvedBy must be someone other than the requester/,
    );
    const notApprover = standing.replace('approvedBy: cab', 'approvedBy: ops');
    expect(() => loadConfig(write('not-approver.yaml', notApprover), {})).toThrow(
      /schedules\.0\.approvedBy: ops is not an approver of dev-box: name one of its approvers \(cab\)/,
    );
    const pointless = `${schedule(good)}    approvedBy: cab\n`;
    expect(() => loadConfig(write('pointless.yaml', pointless), {})).toThrow(
      /schedules\.0\.approvedBy: dev-box is not protected, so there is nothing to approve/,
    );
  });

  describe('people and approvers (who signs on protected environments)', () => {
    const protectedBox = (approvers: string) =>
      minimal.replace('driver: fleet', `driver: fleet\n    protected: true${approvers}`);

    it('takes people with one key or several, and approvers named as samePerson compares them', () => {
      const config = loadConfig(
        write('people.yaml', `${people}${protectedBox('\n    approvers: [CAB, " ops "]')}`),
        {},
      );
      expect(config.people).toEqual({ cab: CAB_KEY, ops: [OPS_KEY] });
      expect(config.environments['dev-box'].approvers).toEqual(['CAB', 'ops']);
    });

    it.each([
      [
        'a protected environment without approvers',
        `${people}${protectedBox('')}`,
        /environments\.dev-box\.approvers: dev-box is protected: name who may approve its operations/,
      ],
      [
        'approvers on an unprotected environment',
        `${people}${minimal.replace('driver: fleet', 'driver: fleet\n    approvers: [cab]')}`,
        /environments\.dev-box\.approvers: dev-box is not protected, so nothing waits for approval/,
      ],
      [
        'an approver who is not in people',
        `${people}${protectedBox('\n    approvers: [cab, dave]')}`,
        /environments\.dev-box\.approvers\.1: dave is not in people: add dave: "ssh-ed25519 AAAA… dave@host"/,
      ],
      [
        'a key that is not an SSH public key',
        `people:\n  cab: not-a-key\n${protectedBox('\n    approvers: [cab]')}`,
        /people\.cab: not a usable SSH public key .*paste the line of your ~\/\.ssh\/id_ed25519\.pub/,
      ],
      [
        'a key type that is not supported',
        `people:\n  cab: ssh-dss AAAAB3NzaC1kc3MAAACBAP old@box\n${protectedBox('\n    approvers: [cab]')}`,
        /people\.cab: not a usable SSH public key/,
      ],
      [
        'one key for two people',
        `people:\n  cab: ${CAB_KEY}\n  ops: ${CAB_KEY}\n${protectedBox('\n    approvers: [cab]')}`,
        /people\.ops: this key \(SHA256:\S+\) is also cab's: a key belongs to one person/,
      ],
      [
        'one person twice',
        `people:\n  cab: ${CAB_KEY}\n  Cab: ${OPS_KEY}\n${protectedBox('\n    approvers: [cab]')}`,
        /people\.Cab: "Cab" and "cab" are the same person: keep one entry/,
      ],
    ])('refuses %s, naming the field and the fix', (_, text, expected) => {
      expect(() => loadConfig(write('bad-people.yaml', text), {})).toThrow(expected);
    });
  });

  const fleet = (name: string, port: number, extra: string) =>
    `  ${name}:\n    driver: fleet\n    supervisorPort: ${port}\n    database: fleet/${name}.db\n    topology: { interactive: 1, batch: 1 }\n${extra}`;
  const sandboxes = `${people}environments:\n${fleet('sbx-a', 9001, '    tags: [sandbox]\n')}${fleet('sbx-b', 9002, '    tags: [sandbox, eu]\n')}${fleet('prod', 9003, '    protected: true\n    approvers: [cab]\n')}`;
  const rolloutSchedule = (fields: string) =>
    `${sandboxes}schedules:\n  - id: sandboxes-weekly\n${good}    changes: { enable: [WHSandTMS] }\n${fields}`;

  it('accepts a schedule that starts a rollout of windows over a tag or a list, and gives it the rollout input', () => {
    const byTag = loadConfig(
      write(
        'rollout.yaml',
        rolloutSchedule('    rollout: { tag: sandbox, maxConcurrency: "25%", maxErrors: "10%" }\n'),
      ),
      {},
    ).schedules[0];
    expect(byTag).toMatchObject({
      id: 'sandboxes-weekly',
      rollout: { tag: 'sandbox', maxConcurrency: '25%', maxErrors: '10%', onBusy: 'skip' },
    });
    expect(byTag.environment).toBeUndefined();
    expect(scheduledWorkflowOf(byTag)).toEqual({
      workflowType: 'maintenanceRollout',
      input: {
        action: 'window',
        tag: 'sandbox',
        maxConcurrency: '25%',
        maxErrors: '10%',
        onBusy: 'skip',
        duration: 'PT2H',
        changes: { enable: ['WHSandTMS'], disable: [] },
        requestedBy: 'schedule:sandboxes-weekly',
        reason: '',
      },
    });
    // A protected environment may be a target: its window asks for approval at each run.
    const byList = loadConfig(
      write(
        'rollout-list.yaml',
        rolloutSchedule('    rollout: { environments: [sbx-a, prod], onBusy: wait }\n'),
      ),
      {},
    ).schedules[0];
    expect(scheduledWorkflowOf(byList).input).toMatchObject({
      environments: ['sbx-a', 'prod'],
      maxConcurrency: 1,
      maxErrors: 0,
      onBusy: 'wait',
    });
  });

  it.each([
    [
      'an environment and a rollout',
      '    environment: sbx-a\n    rollout: { tag: sandbox }\n',
      /schedules\.0: give either environment \(a window on one environment\) or rollout/,
    ],
    ['neither an environment nor a rollout', '', /schedules\.0: give either environment .* or rollout/],
    [
      'a tag that no environment has',
      '    rollout: { tag: web }\n',
      /schedules\.0\.rollout\.tag: no environment has the tag "web"; tags declared: sandbox, eu/,
    ],
    [
      'an unknown environment in its list',
      '    rollout: { environments: [sbx-a, sbx-c] }\n',
      /schedules\.0\.rollout\.environments\.1: unknown environment "sbx-c"; declared: sbx-a, sbx-b, prod/,
    ],
    [
      'both a tag and a list',
      '    rollout: { tag: sandbox, environments: [sbx-a] }\n',
      /schedules\.0\.rollout\.environments: give either "environments": \["a", "b"\] or "tag": "sandbox"/,
    ],
    [
      'neither a tag nor a list',
      '    rollout: { maxConcurrency: 2 }\n',
      /schedules\.0\.rollout\.environments: give either "environments"/,
    ],
    [
      'a maxConcurrency that is not a number or a percentage',
      '    rollout: { tag: sandbox, maxConcurrency: lots }\n',
      /schedules\.0\.rollout\.maxConcurrency: maxConcurrency is a whole number of environments/,
    ],
    [
      'a maxErrors over 100%',
      '    rollout: { tag: sandbox, maxErrors: "150%" }\n',
      /schedules\.0\.rollout\.maxErrors: maxErrors as a percentage is 0% to 100%/,
    ],
    [
      'an action of its own (a schedule starts windows)',
      '    rollout: { tag: sandbox, action: enable }\n',
      /schedules\.0\.rollout: Unrecognized key\(s\) in object: 'action'/,
    ],
    [
      'a standing approval',
      '    rollout: { environments: [prod] }\n    approvedBy: cab\n',
      /schedules\.0\.approvedBy: a rollout schedule takes no standing approval: the window on each protected environment of the rollout asks for approval \(maint approve\) at every run/,
    ],
  ])('rejects a rollout schedule with %s, naming the field', (_name, fields, expected) => {
    expect(() => loadConfig(write('bad-rollout.yaml', rolloutSchedule(fields)), {})).toThrow(expected);
  });

  it("checks a rollout schedule's duration and key changes as the window's, under their own names", () => {
    const bad = rolloutSchedule('    rollout: { tag: sandbox }\n')
      .replace('PT2H', 'two hours')
      .replace('enable: [WHSandTMS]', 'enable: [A], disable: [A]');
    expect(() => loadConfig(write('bad-rollout-window.yaml', bad), {})).toThrow(
      /schedules\.0\.duration: "two hours" is not a duration/,
    );
    expect(() => loadConfig(write('bad-rollout-window.yaml', bad), {})).toThrow(
      /schedules\.0\.changes: a configuration key cannot be both enabled and disabled/,
    );
  });

  it('rejects a file that is not YAML, and one that does not exist', () => {
    expect(() => loadConfig(write('broken.yaml', 'environments: [\n'), {})).toThrow(
      /broken\.yaml is not valid YAML/,
    );
    expect(() => loadConfig(path.join(dir, 'missing.yaml'), {})).toThrow(
      /Cannot read the configuration file .*missing\.yaml/,
    );
  });
});

describe('cron expressions, field by field', () => {
  it.each([
    '0 2 * * SUN',
    '*/15 * * * *',
    '0 0-6/2 1,15 JAN-MAR,dec mon-fri',
    '59 23 31 12 7',
    '0 0 1 * 0',
    '  30 1 * * *  ',
  ])('accepts "%s"', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['60 * * * *', 'cron field 1 (minute) "60" is out of range 0-59'],
    ['0 25 * * *', 'cron field 2 (hour) "25" is out of range 0-23'],
    ['0 2 0 * *', 'cron field 3 (day-of-month) "0" is out of range 1-31'],
    ['0 2 32 * *', 'cron field 3 (day-of-month) "32" is out of range 1-31'],
    ['0 2 * 13 *', 'cron field 4 (month) "13" is out of range 1-12'],
    ['0 2 * * 8', 'cron field 5 (day-of-week) "8" is out of range 0-7'],
    ['0 2 * SEPT *', 'cron field 4 (month) "SEPT" is not a number or a name JAN-DEC'],
    ['0 2 * * FUNDAY', 'cron field 5 (day-of-week) "FUNDAY" is not a number or a name SUN-SAT'],
    ['0 1-24 * * *', 'cron field 2 (hour) "24" is out of range 0-23 (in "1-24")'],
    ['0 2 * * FRI-MON', 'cron field 5 (day-of-week) "FRI-MON" is a range that ends before it starts'],
    ['*/0 * * * *', 'cron field 1 (minute) "*/0": the step after "/" must be a whole number of at least 1'],
    ['0 2 1,,15 * *', 'cron field 3 (day-of-month) "1,,15" has an empty list item'],
    ['0 2 1-2-3 * *', 'cron field 3 (day-of-month) "1-2-3" is not a value, a range "a-b" or "*"'],
    ['0 */2/3 * * *', 'cron field 2 (hour) "*/2/3" has more than one "/"'],
    [
      '0 2 * * SUN 2026',
      'a cron expression has five fields: minute hour day-of-month month day-of-week (got 6)',
    ],
    ['1.5 * * * *', 'cron field 1 (minute) "1.5" is not a number'],
  ])('rejects "%s": %s', (expression, message) => {
    expect(cronProblem(expression)).toBe(message);
  });
});

describe('Temporal connection profile (@temporalio/envconfig)', () => {
  const toml = `
[profile.default]
address = "profile-default.example:7233"

[profile.prod]
address = "prod.tmprl.cloud:7233"
namespace = "prod.a1b2c"
api_key = "profile-secret"

[profile.prod.grpc_meta]
x-team = "ops"

[profile.mtls]
address = "mtls.example:7233"
[profile.mtls.tls]
server_name = "mtls.example"
`;
  let tomlFile: string;
  let yamlFile: string;
  beforeAll(() => {
    tomlFile = write('temporal.toml', toml);
    yamlFile = write(
      'with-tls.yaml',
      `temporal:\n  address: yaml.example:7233\n  namespace: from-yaml\n  tls: { serverName: yaml.example }\n${minimal}`,
    );
  });

  it('keeps temporal.yaml as the default when there is no profile and no TEMPORAL_* variable', () => {
    const config = loadConfig(yamlFile, { TEMPORAL_CONFIG_FILE: path.join(dir, 'missing.toml') });
    expect(config.temporal).toMatchObject({ address: 'yaml.example:7233', namespace: 'from-yaml' });
    expect(config.apiKey).toBeUndefined();
    expect(connectionOptions(config)).toMatchObject({ tls: { serverNameOverride: 'yaml.example' } });
  });

  it("lets the config file's default profile override temporal.yaml setting by setting", () => {
    const config = loadConfig(yamlFile, { TEMPORAL_CONFIG_FILE: tomlFile });
    expect(config.temporal).toMatchObject({
      address: 'profile-default.example:7233',
      namespace: 'from-yaml',
    });
  });

  it('selects the profile named by TEMPORAL_PROFILE, with its API key (TLS on) and gRPC headers', () => {
    const config = loadConfig(yamlFile, { TEMPORAL_CONFIG_FILE: tomlFile, TEMPORAL_PROFILE: 'prod' });
    expect(config.temporal).toMatchObject({ address: 'prod.tmprl.cloud:7233', namespace: 'prod.a1b2c' });
    expect(config.apiKey).toBe('profile-secret');
    expect(connectionOptions(config)).toMatchObject({
      address: 'prod.tmprl.cloud:7233',
      apiKey: 'profile-secret',
      metadata: { 'x-team': 'ops' },
      // temporal.yaml's tls stays in force when the profile has none of its own.
      tls: { serverNameOverride: 'yaml.example' },
    });
    const mtls = loadConfig(yamlFile, { TEMPORAL_CONFIG_FILE: tomlFile, TEMPORAL_PROFILE: 'mtls' });
    expect(connectionOptions(mtls).tls).toMatchObject({ serverNameOverride: 'mtls.example' });
    const apiKeyOnly = loadConfig(write('plain.yaml', minimal), { TEMPORAL_API_KEY: 'k' });
    expect(connectionOptions(apiKeyOnly).tls).toBe(true);
  });

  it('lets TEMPORAL_* variables override the profile, as the temporal CLI does', () => {
    const config = loadConfig(yamlFile, {
      TEMPORAL_CONFIG_FILE: tomlFile,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_ADDRESS: 'env.example:7233',
      TEMPORAL_API_KEY: 'env-secret',
      TEMPORAL_TLS: 'false',
    });
    expect(config.temporal).toMatchObject({ address: 'env.example:7233', namespace: 'prod.a1b2c' });
    expect(config.apiKey).toBe('env-secret');
    expect(connectionOptions(config).tls).toBe(false);
  });

  it('stops with a ConfigError naming a profile that does not exist, without the API key', () => {
    const load = () =>
      loadConfig(yamlFile, {
        TEMPORAL_CONFIG_FILE: tomlFile,
        TEMPORAL_PROFILE: 'staging',
        TEMPORAL_API_KEY: 'never-shown',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/Temporal connection profile .*temporal\.toml.*Profile 'staging' not found/);
    expect(load).not.toThrow(/never-shown/);
  });
});

describe('metrics: on this machine only, unless metrics.address says otherwise', () => {
  const metricsOf = (metrics: string) =>
    loadConfig(write('metrics.yaml', `${minimal}\nmetrics: ${metrics}\n`), {}).metrics;

  it('binds 127.0.0.1 by default, and says so', () => {
    const metrics = metricsOf('{ port: 9464 }');
    expect(metrics).toEqual({ port: 9464, address: '127.0.0.1', gaugeInterval: '15s' });
    expect(metricsExporter(metrics)).toEqual({ prometheus: { bindAddress: '127.0.0.1:9464' } });
    expect(metricsUrl(metrics)).toBe('http://127.0.0.1:9464/metrics');
    expect(loadConfig(shipped, {}).metrics).toEqual({
      port: 9464,
      address: '127.0.0.1',
      gaugeInterval: '15s',
    });
  });

  it('binds the address given, and shows the address it binds (IPv6 in brackets)', () => {
    expect(metricsUrl(metricsOf('{ port: 9464, address: 0.0.0.0 }'))).toBe('http://0.0.0.0:9464/metrics');
    const v6 = metricsOf('{ port: 9464, address: "::1" }');
    expect(metricsExporter(v6)).toEqual({ prometheus: { bindAddress: '[::1]:9464' } });
    expect(metricsUrl(v6)).toBe('http://[::1]:9464/metrics');
    expect(metricsUrl(metricsOf('{}'))).toBeUndefined();
  });

  it('still takes `host`, the name released configurations use', () => {
    expect(metricsOf('{ port: 9464, host: 0.0.0.0 }')).toMatchObject({ port: 9464, address: '0.0.0.0' });
  });

  it('reads the environment gauges as often as metrics.gaugeInterval says', () => {
    expect(metricsOf('{ port: 9464, gaugeInterval: 1m }').gaugeInterval).toBe('1m');
  });

  it.each([
    [
      '{ port: 9464, host: 0.0.0.0, address: 127.0.0.1 }',
      'metrics.host: give metrics.address only (metrics.host is its old name)',
    ],
    [
      '{ port: 9464, address: localhost }',
      'metrics.address: expected an IP address to listen on: 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)',
    ],
    [
      '{ port: 9464, gaugeInterval: 100ms }',
      'metrics.gaugeInterval: metrics.gaugeInterval is at least 1s: each reading queries every environment entity',
    ],
  ])('refuses %s, saying what to write', (metrics, message) => {
    expect(() => metricsOf(metrics)).toThrow(message);
  });
});

describe('worker.memoryBudget: sizes the workflow cache', () => {
  const workerOf = (worker: string) =>
    loadConfig(write('worker.yaml', `${minimal}\nworker: ${worker}\n`), {}).worker;
  const refusal = (worker: string) => {
    try {
      workerOf(worker);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('expected a refusal');
  };

  it('takes MiB and GiB, and sizes the cache from them; absent, the SDK decides', () => {
    expect(workerOf('{ memoryBudget: 512MiB }')).toEqual({ memoryBudget: 512 });
    expect(workerOf('{ memoryBudget: "1.5GiB" }')).toEqual({ memoryBudget: 1536 });
    expect(loadConfig(write('no-worker.yaml', minimal), {}).worker).toEqual({});
    expect(optionsForMemoryBudget(undefined)).toEqual({});
    expect(optionsForMemoryBudget(512)).toEqual({
      maxCachedWorkflows: (512 - WORKER_BASE_MIB) / CACHED_WORKFLOW_MIB,
      maxConcurrentWorkflowTaskExecutions: 40,
    });
    // Never fewer cached workflows than workflow task slots (the SDK would refuse).
    expect(optionsForMemoryBudget(384).maxCachedWorkflows).toBe(42);
    expect(optionsForMemoryBudget(2048).maxCachedWorkflows).toBe(874);
  });

  it('refuses a size without its unit, a unit it does not know, and less than the worker needs', () => {
    expect(refusal('{ memoryBudget: 512 }')).toMatch(
      /worker\.memoryBudget: expected a size such as "512MiB"/,
    );
    expect(refusal('{ memoryBudget: 512MB }')).toMatch(
      /worker\.memoryBudget: expected a size such as "512MiB"/,
    );
    expect(refusal('{ memoryBudget: 200MiB }')).toMatch(
      /worker\.memoryBudget: give at least 384MiB: the worker itself takes about 300 MiB/,
    );
    expect(refusal('{ memoryBudgett: 512MiB }')).toMatch(/worker: Unrecognized key/);
  });
});
