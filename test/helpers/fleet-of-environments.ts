import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load';
import { FleetClient } from '../../fleet/client';
import { startSupervisor } from '../../fleet/launch';
import { observeEnvironment, writeTestConfig, type Observed, type TestConfigOptions } from './environment';

export interface FleetOfEnvironments {
  /** env-01, env-02, ... in the order of temporal.yaml (the order a rollout starts them in). */
  names: string[];
  dir: string;
  configFile: string;
  config: LoadedConfig;
  /** One environment's supervisor API (its AOS and fault switches). */
  fleet(name: string): FleetClient;
  /** What users would see of one environment: the flag, and each running AOS with the mode it read. */
  observe(name: string): Promise<Observed>;
  stop(): Promise<void>;
}

export interface FleetOfEnvironmentsOptions extends TestConfigOptions {
  count?: number;
  tags?: string[];
  topology?: { interactive: number; batch: number };
  aosStartupMs?: number;
}

/**
 * ONE supervisor serving `count` environments (env-01, env-02, ...) with their AOS in-process, fault
 * switches on, each with its own SQLite file and the same `tags`, and a temporal.yaml for all of them.
 */
export async function startFleetOfEnvironments(
  temporal: { address: string; supportsTimeSkipping: boolean },
  {
    count = 10,
    tags = ['sandbox'],
    topology = { interactive: 2, batch: 1 },
    aosStartupMs = 50,
    ...configOptions
  }: FleetOfEnvironmentsOptions = {},
): Promise<FleetOfEnvironments> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maint-fleet-'));
  const names = Array.from({ length: count }, (_, i) => `env-${String(i + 1).padStart(2, '0')}`);
  const databaseFile = (name: string) => path.join(dir, `${name}.db`);
  const supervisor = await startSupervisor({
    spec: {
      faults: true,
      environments: names.map((environment) => ({
        environment,
        databaseFile: databaseFile(environment),
        topology,
        aosStartupMs,
        aosMode: 'inprocess' as const,
      })),
    },
    logFile: path.join(dir, 'fleet.log'),
  });
  const supervisorPort = Number(new URL(supervisor.url).port);
  const configFile = writeTestConfig(
    dir,
    temporal,
    Object.fromEntries(
      names.map((name) => [
        name,
        {
          driver: 'fleet',
          supervisorPort,
          database: databaseFile(name),
          topology,
          aosStartupMs,
          aosMode: 'inprocess',
          faults: true,
          tags,
        },
      ]),
    ),
    configOptions,
  );
  const fleet = (name: string) => new FleetClient(supervisor.environmentUrl(name));
  return {
    names,
    dir,
    configFile,
    config: loadConfig(configFile, {}),
    fleet,
    observe: (name) => observeEnvironment(fleet(name), databaseFile(name)),
    async stop() {
      await supervisor.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
