/**
 * The benchmark's floor: the least a workflow with as many activities and local activities as an
 * operation can cost on the same server and worker. Workflow code: only @temporalio/workflow and types.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { FloorActivities } from './floor-activities';

const { noop } = proxyActivities<FloorActivities>({ startToCloseTimeout: '1m' });
const local = proxyLocalActivities<FloorActivities>({ startToCloseTimeout: '1m' });

export interface FloorInput {
  activities: number;
  localActivities: number;
}

/** Runs the no-op local activities, then the no-op activities, one after another as an operation's steps. */
export async function benchFloor({ activities, localActivities }: FloorInput): Promise<void> {
  for (let i = 0; i < localActivities; i++) await local.noop();
  for (let i = 0; i < activities; i++) await noop();
}
