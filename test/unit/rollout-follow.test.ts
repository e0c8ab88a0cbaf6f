import { awaitingDecisions } from '../../client/rollouts';
import type { RolloutRow, RolloutState, RolloutStatus, RowState } from '../../contract/rollout';

/**
 * When a followed rollout cannot go on without a decision (`maint rollout` exits 6 then): some
 * environments wait for one, none runs, and none may start.
 */
const row = (environment: string, state: RowState): RolloutRow => ({ environment, state });
function rollout(
  rows: RolloutRow[],
  {
    state = 'Running',
    maxConcurrency = 2,
    stopped,
  }: { state?: RolloutState; maxConcurrency?: number; stopped?: string } = {},
): RolloutStatus {
  return {
    operationId: 'rollout-enable-sandbox',
    action: 'enable',
    requestedBy: 'jane',
    reason: '',
    state,
    selection: 'tag sandbox',
    maxConcurrency,
    maxErrors: 1,
    onBusy: 'skip',
    startedAt: '2026-01-01T00:00:00.000Z',
    stopped,
    counts: {
      targets: rows.length,
      succeeded: 0,
      failed: 0,
      skipped: 0,
      notStarted: 0,
      inFlight: 0,
      errors: 0,
    },
    environments: rows,
    decisions: [],
  };
}
const waiting = row('env-02', 'AwaitingDecision');

describe('awaitingDecisions', () => {
  it.each([
    ['nothing waits for a decision', rollout([row('env-01', 'Running'), row('env-02', 'Pending')])],
    [
      'another environment still runs (or is queued for its busy environment)',
      rollout([waiting, row('env-03', 'Running')], { stopped: '2 errors, more than maxErrors 1' }),
    ],
    [
      'a slot is free and an environment may start',
      rollout([row('env-01', 'Done'), waiting, row('env-03', 'Pending')]),
    ],
    [
      'the rollout has ended',
      {
        ...rollout([row('env-01', 'Done'), row('env-02', 'Done')], { state: 'Finished' }),
        result: 'Failed' as const,
      },
    ],
  ])('goes on following while %s', (_why, status) => {
    expect(awaitingDecisions(status)).toBeUndefined();
  });

  it.each([
    [
      'maxErrors is exceeded (Draining): nothing new starts',
      rollout([row('env-01', 'Done'), waiting, row('env-03', 'Pending')], {
        state: 'Draining',
        stopped: '2 errors, more than maxErrors 1',
      }),
    ],
    [
      'the rollout is paused',
      rollout([row('env-01', 'Done'), waiting, row('env-03', 'Pending')], { state: 'Paused' }),
    ],
    [
      'every slot is taken by environments that wait',
      rollout([row('env-01', 'AwaitingDecision'), waiting, row('env-03', 'Pending')]),
    ],
    ['nothing is left to start', rollout([row('env-01', 'Done'), waiting])],
  ])('stops following, naming who waits, when %s', (_why, status) => {
    expect(awaitingDecisions(status)).toEqual(
      status.environments.filter((r) => r.state === 'AwaitingDecision'),
    );
  });
});
