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
function fleetCommands(url: string, databaseFile: string): Record<string, unknown> {
  const secret = `FLEET_URL_SECRET_${counter}`;
  process.env[secret] = url;
  const example = YAML.parse(fs.readFileSync(path.join(FLEET_COMMANDS, 'temporal.yaml'), 'utf8'));
  const { capabilities } = example.environments['contoso-sandbox'];
  // One settings object serves every capability (a YAML alias): pointing it here points them all.
  Object.assign(capabilities.flagStore, {
    workingDirectory: FLEET_COMMANDS,
    env: { FLEET_URL: `\${env:${secret}}`, FLEET_DATABASE: databaseFile },
  });
  return capabilities;
}

/**
 * A real fleet (supervisor + 5 AOS, processes unless aosMode is "inprocess", + SQLite file) in a temp folder, and a temporal.yaml
 * that points at it and at the `temporal` server, with a fast retry policy so faults resolve quickly.
 * Tests that inject faults say so with `faults: true`; the supervisor refuses them otherwise.
 */
export async function startTestEnvironment(
  temporal: { address: string; supportsTimeSkipping: boolean },
  {
    name = 'contoso-sandbox',
    topology = { interactive: 3, batch: 2 },
    aosStartupMs = 50,
    aosMode = 'process' as AosMode,
    heartbeatTimeout = '10s',
    decisionTimeout = '7d',
    faults = false,
    // Long enough that days skipped on the time-skipping server do not fill the entity's history.
    lockCheckInterval = temporal.supportsTimeSkipping ? '1h' : '5m',
    continueAsNewAfterEvents = 5000,
    /** `events:` of temporal.yaml (sinks; file paths relative to the environment's folder). */
    events = undefined as object | undefined,
    protected: isProtected = false,
    approvalTimeout = '24h',
    schedules = [] as Record<string, unknown>[],
    /** Reach the fleet only through the commands of examples/fleet-commands (the command driver). */
    commands = false,
  } = {},
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
          startToCloseTimeout: '1m',
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
        windows: { maximumDuration: '12h', busyTimeout: '20s', busyPollInterval: '2s' },
      },
      ...(events && { events }),
      environments: {
        [name]: {
          driver: 'fleet',
          supervisorPort: Number(new URL(fleetProcess.url).port),
          database: databaseFile,
          topology,
          aosStartupMs,
          aosMode,
          faults,
          protected: isProtected,
          ...(commands && { capabilities: fleetCommands(fleetProcess.url, databaseFile) }),
        },
      },
      schedules,
    }),
  );
  return {
    name,
    dir,
    config: loadConfig(configFile, {}),
    configFile,
    fleet: new FleetClient(fleetProcess.url),
    databaseFile,
    readFlag() {
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
    },
    async stop() {
      await fleetProcess.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
