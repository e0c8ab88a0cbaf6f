import { activityTimeoutIssues } from '../../config/activity-timeouts';
import { activityPolicySchema, environmentSchema } from '../../config/schema';

/**
 * The check behind "every command of an activity, run to its timeout, fits the activity's
 * startToCloseTimeout" (config/activity-timeouts.ts), on environments built for each rule. The shipped
 * profiles and their broken variants are in profiles.test.ts.
 */
const policy = (startToCloseTimeout: string) => activityPolicySchema.parse({ startToCloseTimeout });
const argv = (name: string) => ({ argv: ['node', `${name}.js`] });
const flagAndAos = {
  readFlag: argv('read-flag'),
  writeFlag: argv('write-flag'),
  listAos: argv('list-aos'),
  restartAos: argv('restart-aos'),
  stopAos: argv('stop-aos'),
};
const fleet = {
  driver: 'fleet',
  supervisorPort: 9000,
  database: 'x.db',
  topology: { interactive: 1, batch: 1 },
};
const commands = (extra: Record<string, unknown> = {}) => ({
  driver: 'command',
  timeout: '10s',
  commands: flagAndAos,
  ...extra,
});
const issues = (environment: unknown, timeout: string) =>
  activityTimeoutIssues({ env: environmentSchema.parse(environment) }, policy(timeout));

describe('activityTimeoutIssues', () => {
  it('counts each command of the longest activity with 3 s to end it: an AOS restart runs four (4 × 23 s = 92 s)', () => {
    const env = commands({ timeout: '20s' });
    expect(issues(env, '92s')).toEqual([]);
    const [issue] = issues(env, '91s');
    expect(issue.path).toEqual(['policies', 'activity', 'startToCloseTimeout']);
    expect(issue.message).toMatch(
      /^1m 31s is shorter than the restartAos activity of environment env can take: up to 1m 32s, for the commands on its longest path \(readFlag 20s, listAos 2 × 20s, restartAos 20s\)/,
    );
    expect(issue.message).toContain('Set policies.activity.startToCloseTimeout to 2m or more');
  });

  it("takes a command's own timeout over the driver's", () => {
    const env = commands({
      commands: { ...flagAndAos, restartAos: { ...argv('restart-aos'), timeout: '15m' } },
    });
    expect(issues(env, '15m')[0].message).toContain(
      'up to 15m 42s, for the commands on its longest path (readFlag 10s, listAos 2 × 10s, restartAos 15m)',
    );
    expect(issues(env, '16m')).toEqual([]);
  });

  it("counts only the capabilities commands serve: AOS control by the fleet costs nothing, the flag's commands do", () => {
    const env = { ...fleet, capabilities: { flagStore: commands({ timeout: '1m' }) } };
    // setConfigurationMode reads the flag, then writes it: 2 × (1m + 3s).
    expect(issues(env, '2m')[0].message).toContain(
      'the setConfigurationMode activity of environment env can take: up to 2m 6s, for the commands on its longest path (readFlag 1m, writeFlag 1m)',
    );
    expect(issues(env, '126s')).toEqual([]);
  });

  it('counts the wait of a snapshot for AOS that start or stop to settle', () => {
    const env = commands({ timeout: '1s' });
    const [issue] = issues(env, '30s');
    expect(issue.message).toContain(
      'the snapshotEnvironment activity of environment env can take: up to 39s, for the commands on its longest path (readFlag 1s, listAos 1s), each given up to 3s more to end once its timeout kills it, and 31s of waiting for AOS that start or stop to settle',
    );
  });

  it('counts the sign-in probes of verification, three in maintenance, when the probe has commands', () => {
    const env = commands({
      timeout: '1s',
      commands: { ...flagAndAos, probeUsers: argv('users'), signIn: { ...argv('sign-in'), timeout: '1m' } },
    });
    expect(issues(env, '3m')[0].message).toContain(
      'the verifyEnvironment activity of environment env can take: up to 3m 21s, for the commands on its longest path (readFlag 1s, listAos 1s, probeUsers 1s, signIn 3 × 1m)',
    );
  });

  it('a rollback restarts and stops AOS at once: the slower of the two counts, once', () => {
    const env = commands({
      timeout: '1s',
      commands: {
        ...flagAndAos,
        restartAos: { ...argv('restart-aos'), timeout: '1m' },
        stopAos: { ...argv('stop-aos'), timeout: '2m' },
      },
    });
    // restoreTopology: listAos, then the slower of (restartAos, listAos) and (listAos, stopAos, listAos).
    expect(issues(env, '130s')[0].message).toContain(
      'the restoreTopology activity of environment env can take: up to 2m 15s, for the commands on its longest path (listAos 3 × 1s, stopAos 2m)',
    );
  });

  it('a dry run has a fixed 2m: a read command that may run longer is refused, whatever the policy', () => {
    const env = commands({ commands: { ...flagAndAos, listAos: { ...argv('list-aos'), timeout: '2m' } } });
    const found = issues(env, '1h');
    expect(found).toEqual([
      {
        path: ['environments', 'env'],
        message: expect.stringContaining(
          'the planOperation activity of a dry run (maint plan) has 2m, fixed by the workflow, for read-only commands run at once, but can take up to 2m 3s here',
        ),
      },
    ]);
  });

  it('an environment without commands is not checked', () => {
    expect(issues(fleet, '1s')).toEqual([]);
  });
});
