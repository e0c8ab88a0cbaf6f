import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ApplicationFailure } from '@temporalio/client';
import { WorkflowFailedError } from '@temporalio/client';
import { decisionUpdates, type ServicingInput } from '../../contract/operation';
import { enableMaintenanceMode } from '../../workflows';
import { observeEnvironment } from '../helpers/environment';
import { timeSkippingTestbed } from '../helpers/testbed';
import { waitForDecision } from '../helpers/status';

/**
 * `hooks.onFailure: decide`: a before hook that fails is a Failed step like any other, waiting for
 * resume or abort (rollback has nothing to undo), instead of refusing the operation.
 */
const bed = timeSkippingTestbed({
  hooks: {
    onFailure: 'decide',
    beforeEnable: { shell: 'if [ -f block ]; then echo "batch jobs still running" >&2; exit 1; fi' },
  },
});
const block = () => path.join(bed.env.dir, 'block');

function start() {
  const input: ServicingInput = { environment: bed.env.name, requestedBy: 'jane', reason: 'decide test' };
  return bed.temporal.client.workflow.start(enableMaintenanceMode, {
    workflowId: `hooks-decide-${randomUUID()}`,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [input],
  });
}

it('a failed before hook waits for resume or abort; abort leaves everything as it was', async () => {
  fs.writeFileSync(block(), '');
  const before = await observeEnvironment(bed.env.fleet, bed.env.databaseFile);
  const error = await bed.withWorker(async () => {
    const handle = await start();
    const status = await waitForDecision(handle);
    expect(status).toMatchObject({ step: 'beforeEnable', availableDecisions: ['resume', 'abort'] });
    expect(status.failure?.error.message).toContain('batch jobs still running');
    await handle.executeUpdate(decisionUpdates.abort, { args: [{ by: 'jane', reason: 'not today' }] });
    return handle.result().catch((e: unknown) => e);
  });
  expect(error).toBeInstanceOf(WorkflowFailedError);
  expect(((error as WorkflowFailedError).cause as ApplicationFailure).type).toBe('OperationAborted');
  expect(await observeEnvironment(bed.env.fleet, bed.env.databaseFile)).toEqual(before);
});

it('resumed once the hook passes, the enable goes on and succeeds', async () => {
  fs.writeFileSync(block(), '');
  const result = await bed.withWorker(async () => {
    const handle = await start();
    await waitForDecision(handle);
    fs.rmSync(block());
    await handle.executeUpdate(decisionUpdates.resume, { args: [{ by: 'jane', reason: 'batch stopped' }] });
    return handle.result();
  });
  expect(result).toMatchObject({ result: 'Succeeded', state: 'InMaintenance' });
  expect(bed.env.readFlag()).toBe(1);
});
