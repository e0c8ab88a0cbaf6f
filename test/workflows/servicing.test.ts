import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { logQuery, type ServicingInput } from '../../contract/operation';
import { disableMaintenanceMode, enableMaintenanceMode } from '../../workflows';
import { RELEASE_MARKER } from '../../workflows/shape';
import { timeSkippingTestbed } from '../helpers/testbed';

const bed = timeSkippingTestbed({ faults: true });
const { withWorker } = bed;
afterEach(() => bed.env.fleet.clearFaults());

const input = (overrides: Partial<ServicingInput> = {}): ServicingInput => ({
  environment: bed.env.name,
  requestedBy: 'test',
  reason: 'workflow test',
  ...overrides,
});

/** Runs one workflow to its end on a worker with the real activities against the real fleet. */
async function run(workflow: typeof enableMaintenanceMode, args: unknown) {
  return withWorker(async () => {
    const handle = await bed.temporal.client.workflow.start(workflow, {
      workflowId: `test-${randomUUID()}`,
      taskQueue: bed.env.config.temporal.taskQueue,
      args: [args as ServicingInput],
    });
    const result = await handle.result();
    return { result, log: await handle.query(logQuery) };
  });
}

const running = async () => (await bed.env.fleet.listAos()).filter((a) => a.status === 'running');

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('servicing workflows with the real fleet', () => {
  it("an enable records the one marker of its release's patches at its start, before the settings' local activity (a replay on another worker finds it there)", async () => {
    const history = await withWorker(async () => {
      const handle = await bed.temporal.client.workflow.start(enableMaintenanceMode, {
        workflowId: `test-${randomUUID()}`,
        taskQueue: bed.env.config.temporal.taskQueue,
        args: [input()],
      });
      await handle.result();
      return (await handle.fetchHistory()).events ?? [];
    });
    const markers = history.filter((e) => e.markerRecordedEventAttributes);
    const patchOf = (e: (typeof markers)[number]) => {
      const payload = Object.values(e.markerRecordedEventAttributes!.details!)[0].payloads![0];
      return JSON.parse(Buffer.from(payload.data!).toString()).id as string;
    };
    const firstLocalActivity = markers.findIndex(
      (e) => e.markerRecordedEventAttributes!.markerName !== 'core_patch',
    );
    expect(firstLocalActivity).toBeGreaterThan(0);
    // One marker stands for every patch of its release (workflows/shape.ts), with one upsert of it.
    expect(markers.slice(0, firstLocalActivity).map(patchOf)).toEqual([RELEASE_MARKER]);
    const changeVersionUpserts = history.filter(
      (e) =>
        e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields
          ?.TemporalChangeVersion,
    );
    expect(changeVersionUpserts).toHaveLength(1);
    expect(
      markers
        .slice(firstLocalActivity)
        .filter((e) => e.markerRecordedEventAttributes!.markerName === 'core_patch'),
    ).toEqual([]);
    await run(disableMaintenanceMode, input());
  });

  it('enable leaves one interactive and one batch AOS in maintenance; disable brings the topology back', async () => {
    const { result: enabled } = await run(enableMaintenanceMode, input());
    expect(enabled).toMatchObject({
      result: 'Succeeded',
      state: 'InMaintenance',
      action: 'enable',
      alreadyInMode: false,
    });
    expect(enabled.steps.map((s) => s.status)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expect(bed.env.readFlag()).toBe(1);
    expect((await running()).map((a) => [a.id, a.role, a.maintenanceMode])).toEqual([
      ['aos-1', 'interactive', true],
      ['aos-4', 'batch', true],
    ]);

    const { result: disabled } = await run(disableMaintenanceMode, input());
    expect(disabled).toMatchObject({ result: 'Succeeded', state: 'Deployed' });
    expect(bed.env.readFlag()).toBe(0);
    const all = await running();
    expect(all).toHaveLength(5);
    expect(all.every((a) => a.maintenanceMode === false)).toBe(true);
  });

  it('succeeds without touching anything when the environment is already in the requested mode', async () => {
    const pids = (await running()).map((a) => a.pid);
    const { result } = await run(disableMaintenanceMode, input());
    expect(result).toMatchObject({ result: 'Succeeded', alreadyInMode: true });
    expect(result.steps.map((s) => s.status)).toEqual([
      'succeeded',
      'skipped',
      'skipped',
      'skipped',
      'succeeded',
    ]);
    expect((await running()).map((a) => a.pid)).toEqual(pids);
  });

  it('fails bad input at once with a non-retryable InvalidInput that says what to fix, and changes nothing', async () => {
    const pids = (await running()).map((a) => a.pid);
    const failure = await failureOf(
      run(enableMaintenanceMode, { environment: 'Contoso Sandbox', reason: 42 }),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/environment: environment names are lower-case/);
    expect(failure.message).toMatch(/requestedBy: say who asks/);
    expect(failure.message).toMatch(/reason: Expected string, received number/);
    expect(failure.message).toMatch(/Nothing was changed/);
    expect(bed.env.readFlag()).toBe(0);
    expect((await running()).map((a) => a.pid)).toEqual(pids);
  });

  it('fails an unknown environment at once, naming the known ones', async () => {
    const failure = await failureOf(run(enableMaintenanceMode, input({ environment: 'fabrikam-prod' })));
    expect(failure.message).toMatch(
      /Unknown environment "fabrikam-prod". Known environments: contoso-sandbox/,
    );
  });

  it('retries an AOS start that fails twice and succeeds without anyone deciding anything', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 2 } });
    const { result, log } = await run(enableMaintenanceMode, input());
    expect(result).toMatchObject({ result: 'Succeeded', decisions: [] });
    expect((await bed.env.fleet.getFaults()).startFailures?.['aos-1'] ?? 0).toBe(0);
    const attempts = log.entries.filter((e) => e.kind === 'attempt' && e.aos === 'aos-1');
    expect(attempts.map((e) => [e.attempt, e.outcome, e.error?.type])).toEqual([
      [1, 'failed', 'AosStartFailed'],
      [2, 'failed', 'AosStartFailed'],
      [3, 'succeeded', undefined],
    ]);
    expect(attempts[0].error?.message).toMatch(
      /restart aos-1: aos-1 failed to start: injected start failure/,
    );
    await run(disableMaintenanceMode, input());
  });
});
