import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { cli, type CliRun } from './cli';
import type { TestEnvironment } from './environment';
import type { HistoryEvent } from './record-history';

/**
 * The previous release, built from git by scripts/previous-release.sh into .tools/releases/<commit>/:
 * its worker and CLI run from its own dist/, with a temporal.yaml in its own schema, against today's
 * fleet and Temporal server.
 */
export const PREVIOUS_RELEASE = 'c536525';
const ROOT = path.resolve(__dirname, '../..');
export const PREVIOUS_DIST = path.join(ROOT, '.tools/releases', PREVIOUS_RELEASE, 'dist');

/** Builds the release once (a finished build is left alone). */
export function buildPreviousRelease(): void {
  execFileSync('bash', [path.join(ROOT, 'scripts/previous-release.sh'), PREVIOUS_RELEASE], {
    stdio: 'inherit',
  });
}

/** The release's own `maint`, with this config. */
export function previousReleaseCli(configFile: string): (...args: string[]) => Promise<CliRun> {
  return (...args) => cli(configFile, args, { script: path.join(PREVIOUS_DIST, 'client/cli.js') });
}

/** Each environment's section of the temporal.yaml the test helper wrote for it. */
function testConfigOf(env: TestEnvironment) {
  return YAML.parse(fs.readFileSync(env.configFile, 'utf8'));
}

/**
 * The release's temporal.yaml for these environments: today's test config of the first (its task queue
 * and policies), with only what the release's own (strict) schema knows. Its history file, where the
 * release keeps the environment history and locks, is `history.db` beside `file`.
 */
export function writePreviousReleaseConfig(
  file: string,
  temporal: { address: string },
  environments: TestEnvironment[],
): string {
  const { policies } = testConfigOf(environments[0]);
  const environment = (env: TestEnvironment) => {
    const { driver, supervisorPort, database, topology, aosStartupMs } =
      testConfigOf(env).environments[env.name];
    return { driver, supervisorPort, database, topology, aosStartupMs };
  };
  const config = {
    temporal: {
      address: temporal.address,
      namespace: 'default',
      taskQueue: environments[0].config.temporal.taskQueue,
      searchAttributes: true,
    },
    // Beside today's config: where today's config names a history file too, it is this same one.
    history: { database: 'history.db' },
    policies: {
      activity: policies.activity,
      decisionTimeout: policies.decisionTimeout,
      windows: policies.windows,
    },
    environments: Object.fromEntries(environments.map((env) => [env.name, environment(env)])),
  };
  fs.writeFileSync(file, YAML.stringify(config));
  return file;
}

/** Today's temporal.yaml for these environments: the first one's file, with all their environments. */
export function writeCurrentConfig(file: string, environments: TestEnvironment[]): string {
  const [first, ...rest] = environments.map(testConfigOf);
  const all = Object.assign({}, first.environments, ...rest.map((c) => c.environments));
  fs.writeFileSync(file, YAML.stringify({ ...first, environments: all }));
  return file;
}

/** The identities of the workers that completed a history's workflow tasks, in order. */
export function workflowTaskWorkers(events: HistoryEvent[]): string[] {
  return events.flatMap((e) => e.workflowTaskCompletedEventAttributes?.identity ?? []);
}
