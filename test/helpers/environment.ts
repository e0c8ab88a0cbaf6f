import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { loadConfig, type LoadedConfig } from '../../config/load';
import { FleetClient } from '../../fleet/client';
import { startFleet } from '../../fleet/launch';
import type { AosMode } from '../../fleet/schemas';

export interface TestEnvironment {
  name: string;
  dir: string;
  config: LoadedConfig;
  configFile: string;
  fleet: FleetClient;
  databaseFile: string;
  readFlag(): number;
  stop(): Promise<void>;
}

let counter = 0;

const FLEET_COMMANDS = path.resolve(__dirname, '../../examples/fleet-commands');

/**
 * The example's capabilities, pointed at this test's fleet. The fleet's URL goes in as a secret
 * (`${env:NAME}`, set in this process, where the worker runs): a canary that must never reach a
 * history or a log unmasked.
 */
function fleetCommands(
  url: string,
  databaseFile: string,
  changes: CommandChanges = {},
): Record<string, unknown> {
  const secret = `FLEET_URL_SECRET_${counter}`;
  process.env[secret] = url;
  const example = YAML.parse(fs.readFileSync(path.join(FLEET_COMMANDS, 'temporal.yaml'), 'utf8'));
  const { capabilities } = example.environments['contoso-sandbox'];
  // One settings object serves every capability (a YAML alias): pointing it here points them all.
  Object.assign(capabilities.flagStore, {
    workingDirectory: FLEET_COMMANDS,
    env: { FLEET_URL: `\${env:${secret}}`, FLEET_DATABASE: databaseFile, ...changes.env },
  });
  Object.assign(capabilities.flagStore.commands, changes.commands);
  return capabilities;
}

/** Variables and commands of examples/fleet-commands to add or replace, for `commands: true`. */
export interface CommandChanges {
  env?: Record<string, string>;
  commands?: Record<string, unknown>;
}

/** What every test's temporal.yaml says besides its environments: its policies, events and schedules. */
export interface TestConfigOptions {
  heartbeatTimeout?: string;
  decisionTimeout?: string;
  /** Default: long enough that days skipped on the time-skipping server do not fill the entity's history. */
  lockCheckInterval?: string;
  continueAsNewAfterEvents?: number;
  /** `events:` of temporal.yaml (sinks; file paths relative to the environment's folder). */
  events?: object;
  approvalTimeout?: string;
  schedules?: Record<string, unknown>[];
  /** `people:` of temporal.yaml: who signs on protected environments (test/helpers/people.ts makes their keys). */
  people?: Record<string, string>;
  /** `freezes:` of temporal.yaml (change freezes). */
  freezes?: Record<string, unknown>[];
  /** `policies.maximumInMaintenance` and `policies.autoDisable`. */
  maximumInMaintenance?: string;
  autoDisable?: boolean;
  /** `policies.windows.cutoff`. */
  windowCutoff?: string;
  /** `policies.windows.busyTimeout`: how long a window waits for a busy environment (default 20s). */
  busyTimeout?: string;
  /** `worker:` of temporal.yaml (its memory budget). */
  worker?: object;
}

/**
 * Writes `dir/temporal.yaml` for `environments`, pointing at the `temporal` server on a task queue of
 * its own, with a fast retry policy so that faults resolve quickly; returns its path.
 */
export function writeTestConfig(
  dir: string,
  temporal: { address: string; supportsTimeSkipping: boolean },
  environments: Record<string, object>,
  {
    heartbeatTimeout = '10s',
    decisionTimeout = '7d',
    lockCheckInterval = temporal.supportsTimeSkipping ? '1h' : '5m',
    continueAsNewAfterEvents = 5000,
    events,
    approvalTimeout = '24h',
    schedules = [],
    people,
    freezes,
    maximumInMaintenance,
    autoDisable,
    windowCutoff,
    busyTimeout = '20s',
    worker,
  }: TestConfigOptions = {},
): string {
  const configFile = path.join(dir, 'temporal.yaml');
  fs.writeFileSync(
    configFile,
    YAML.stringify({
      temporal: {
        address: temporal.address,
        namespace: 'default',
        taskQueue: `maintenance-test-${process.pid}-${++counter}`,
        // The time-skipping server cannot register custom search attributes.
        searchAttributes: !temporal.supportsTimeSkipping,
      },
      history: { continueAsNewAfterEvents },
      policies: {
        activity: {
          // Fits the commands of examples/fleet-commands, each run to its timeout (checked at load).
          startToCloseTimeout: '5m',
          heartbeatTimeout,
          retry: {
            initialInterval: '100ms',
            backoffCoefficient: 2,
            maximumInterval: '500ms',
            maximumAttempts: 4,
          },
        },
        decisionTimeout,
        approvalTimeout,
        lockCheckInterval,
        ...(maximumInMaintenance && { maximumInMaintenance }),
        ...(autoDisable !== undefined && { autoDisable }),
        windows: {
          maximumDuration: '12h',
          busyTimeout,
          busyPollInterval: '2s',
          ...(windowCutoff && { cutoff: windowCutoff }),
        },
      },
      ...(events && { events }),
      ...(people && { people }),
      ...(freezes && { freezes }),
      ...(worker && { worker }),
      environments,
      schedules,
    }),
  );
  return configFile;
}

/** The environment's CONFIGURATIONMODE flag, read from its database. */
export function readFlag(databaseFile: string): number {
  const db = new Database(databaseFile, { readonly: true });
  try {
    return (
      db.prepare("SELECT VALUE FROM SQLSYSTEMVARIABLES WHERE PARM = 'CONFIGURATIONMODE'").get() as {
        VALUE: number;
      }
    ).VALUE;
  } finally {
    db.close();
  }
}

export interface Observed {
  flag: number;
  /** Each running AOS, with " (maintenance)" when it read maintenance mode at start. */
  running: string[];
}

/** What users would see of an environment: the flag, and each running AOS with the mode it read. */
export async function observeEnvironment(fleet: FleetClient, databaseFile: string): Promise<Observed> {
  const aos = await fleet.listAos();
  return {
    flag: readFlag(databaseFile),
    running: aos
      .filter((a) => a.status === 'running')
      .map((a) => `${a.id}${a.maintenanceMode ? ' (maintenance)' : ''}`),
  };
}

export interface TestEnvironmentOptions extends TestConfigOptions {
  name?: string;
  topology?: { interactive: number; batch: number };
  aosStartupMs?: number;
  aosMode?: AosMode;
  /** Tests that inject faults say so; the supervisor refuses them otherwise. */
  faults?: boolean;
  protected?: boolean;
  /** Who may approve on the protected environment (names from `people`). */
  approvers?: string[];
  /** Reach the fleet only through the commands of examples/fleet-commands (the command driver). */
  commands?: boolean;
  /** With `commands`: variables and commands to add to the example's, or replace. */
  commandChanges?: CommandChanges;
  /** `hooks:` of the environment (config/hooks.ts); relative paths are relative to the test's folder. */
  hooks?: Record<string, unknown>;
}

/**
 * A real fleet (supervisor + 5 AOS + SQLite file) in a temp folder, and a temporal.yaml that points at
 * it and at the `temporal` server (see writeTestConfig). The AOS run inside the supervisor unless a
 * test asks for aosMode "process": each with its own port and the same server code, but without a
 * Node start per AOS restart, which was a tenth of the suite's CPU. test/fleet/ covers both modes, and
 * test/e2e/enable-disable.test.ts runs end to end with an AOS process each, as `npm start` does.
 */
export async function startTestEnvironment(
  temporal: { address: string; supportsTimeSkipping: boolean },
  {
    name = 'contoso-sandbox',
    topology = { interactive: 3, batch: 2 },
    aosStartupMs = 50,
    aosMode = 'inprocess',
    faults = false,
    protected: isProtected = false,
    approvers,
    commands = false,
    commandChanges,
    hooks,
    ...configOptions
  }: TestEnvironmentOptions = {},
): Promise<TestEnvironment> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `maint-${name}-`));
  const databaseFile = path.join(dir, `${name}.db`);
  const fleetProcess = await startFleet({
    environment: name,
    databaseFile,
    port: 0,
    topology,
    aosStartupMs,
    aosMode,
    logFile: path.join(dir, 'fleet.log'),
    faults,
  });
  const configFile = writeTestConfig(
    dir,
    temporal,
    {
      [name]: {
        driver: 'fleet',
        supervisorPort: Number(new URL(fleetProcess.url).port),
        database: databaseFile,
        topology,
        aosStartupMs,
        aosMode,
        faults,
        protected: isProtected,
        ...(approvers && { approvers }),
        ...(hooks && { hooks }),
        ...(commands && { capabilities: fleetCommands(fleetProcess.url, databaseFile, commandChanges) }),
      },
    },
    configOptions,
  );
  return {
    name,
    dir,
    config: loadConfig(configFile, {}),
    configFile,
    fleet: new FleetClient(fleetProcess.url),
    databaseFile,
    readFlag: () => readFlag(databaseFile),
    async stop() {
      await fleetProcess.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
