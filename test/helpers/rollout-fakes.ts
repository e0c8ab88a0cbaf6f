/**
 * Workflow code for rollout tests about the rollout's own logic: the real `maintenanceRollout` with
 * small fake operations registered under the real workflow types. What a fake does depends on its
 * environment's name: `ok-*` succeeds after a minute, `slow-*` after ten, `fail-*` fails at once,
 * `busy-*` is refused as busy (or, told to wait, succeeds after a minute), `decide-*` reports that it
 * waits for a decision and succeeds once resumed, `wait-*` reports that it waits for the lock and
 * waits until cancelled. `began` and `ended` (activities) let the test count
 * how many run at once.
 */
import {
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { decisionSignals, type ServicingInput } from '../../contract/operation';
import { ROLLOUT_MEMO, childReportSignal } from '../../contract/rollout';

export { maintenanceRollout } from '../../workflows/rollout';

export interface FakeActivities {
  began(environment: string): Promise<void>;
  ended(environment: string): Promise<void>;
}
const { began, ended } = proxyActivities<FakeActivities>({ startToCloseTimeout: '10s' });

async function fakeOperation(input: ServicingInput): Promise<{ result: string }> {
  const { environment } = input;
  let resumed = false;
  setHandler(decisionSignals.resume, () => void (resumed = true));
  await began(environment);
  try {
    if (environment.startsWith('fail-'))
      throw ApplicationFailure.create({
        message: `${environment} failed`,
        type: 'OperationFailed',
        nonRetryable: true,
      });
    if (environment.startsWith('busy-')) {
      if (input.onBusy !== 'wait')
        throw ApplicationFailure.create({
          message: `${environment} is busy`,
          type: 'EnvironmentBusy',
          nonRetryable: true,
        });
    }
    const rollout = workflowInfo().memo?.[ROLLOUT_MEMO] as string;
    const report = { environment, workflowId: workflowInfo().workflowId };
    if (environment.startsWith('wait-')) {
      await getExternalWorkflowHandle(rollout).signal(childReportSignal, {
        ...report,
        awaitingDecision: false,
        waiting: 'lock',
      });
      await condition(() => false);
    }
    if (environment.startsWith('decide-')) {
      await getExternalWorkflowHandle(rollout).signal(childReportSignal, {
        ...report,
        awaitingDecision: true,
        error: { message: 'AOS did not start' },
      });
      await condition(() => resumed);
      await getExternalWorkflowHandle(rollout).signal(childReportSignal, {
        ...report,
        awaitingDecision: false,
      });
    }
    await sleep(environment.startsWith('slow-') ? '10 minutes' : '1 minute');
    return { result: 'Succeeded' };
  } finally {
    await ended(environment);
  }
}

export const enableMaintenanceMode = fakeOperation;
export const disableMaintenanceMode = fakeOperation;
export const maintenanceWindow = fakeOperation;
