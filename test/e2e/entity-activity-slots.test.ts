import { randomUUID } from 'node:crypto';
import {
  ENVIRONMENT_WORKFLOW_TYPE,
  entityTaskQueue,
  environmentWorkflowId,
} from '../../contract/environment';
import { startFleetEndToEnd, type FleetEndToEnd } from '../helpers/e2e';
import { recordHistory } from '../helpers/record-history';

/**
 * Operations wait on their environment's entity inside activities (acquireLock...). With as many of
 * them as the worker has activity slots, and every entity new, each entity's recovery activity waited
 * for a slot on the same task queue and nothing moved again (found by `bench:scale` at 200 fresh
 * environments and 100 slots). The entity's own activities have a task queue of their own.
 */
const SLOTS = 2;
let e2e: FleetEndToEnd;
beforeAll(async () => {
  e2e = await startFleetEndToEnd({ count: SLOTS + 2 }, { maxConcurrentActivityTaskExecutions: SLOTS });
});
afterAll(() => e2e?.stop());

it(`serves ${SLOTS + 2} operations on new environments at once with ${SLOTS} activity slots`, async () => {
  const { client } = e2e.temporal;
  const { taskQueue } = e2e.fleet.config.temporal;
  const results = await Promise.all(
    e2e.fleet.names.map(async (environment) => {
      const handle = await client.workflow.start('enableMaintenanceMode', {
        workflowId: `slots-${environment}-${randomUUID()}`,
        taskQueue,
        args: [{ environment, requestedBy: 'test', reason: 'more operations than activity slots' }],
      });
      return (await handle.result()) as { result: string };
    }),
  );
  expect(results.map((r) => r.result)).toEqual(e2e.fleet.names.map(() => 'Succeeded'));

  const entityId = environmentWorkflowId(e2e.fleet.names[0]);
  const { events } = await client.workflow.getHandle(entityId).fetchHistory();
  const queues = (events ?? []).flatMap((e) => {
    const scheduled = e.activityTaskScheduledEventAttributes;
    return scheduled ? [`${scheduled.activityType?.name} on ${scheduled.taskQueue?.name}`] : [];
  });
  expect(queues).toEqual([`recoverEnvironment on ${entityTaskQueue(taskQueue)}`]);
  expect((await client.workflow.getHandle(entityId).describe()).type).toBe(ENVIRONMENT_WORKFLOW_TYPE);
  recordHistory('environment-entity-own-queue.json', entityId, events ?? []);
});
