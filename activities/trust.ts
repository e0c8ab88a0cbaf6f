import { ApplicationFailure, Context } from '@temporalio/activity';
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { MANAGED_BY } from '../client/schedules';
import {
  DEFAULT_INSTALLATION,
  keyLinesOf,
  scheduleIdOnServer,
  windowInputOf,
  type Config,
} from '../config/schema';
import type { ApprovalSettings, ParentProof } from '../contract/approval';
import { ErrorType } from '../contract/errors';
import { WORKFLOW_TYPES, statusQuery, type OperationStatus } from '../contract/operation';
import { ROLLOUT_WORKFLOW_TYPE, rolloutStatusQuery } from '../contract/rollout';
import { samePerson } from '../contract/signing';
import { parsePublicKeyLine } from '../contract/sshsig';
import { windowInputSchema } from '../contract/window';
import { classify } from './errors';

type TrustConfig = Pick<Config, 'environments' | 'people' | 'schedules' | 'installation' | 'policies'>;

/** Every registered key, with its person: how a workflow names who signed. */
export function signerKeys(people: Config['people']): NonNullable<ApprovalSettings['keys']> {
  return Object.entries(people).flatMap(([person, entry]) =>
    keyLinesOf(entry).map((line) => ({ fingerprint: parsePublicKeyLine(line).fingerprint, person })),
  );
}

/** What an operation on `environment` needs to know of approval, from the worker's temporal.yaml. */
export function approvalSettings(config: TrustConfig, environment: string): ApprovalSettings {
  const env = config.environments[environment];
  const installation = config.installation ?? DEFAULT_INSTALLATION;
  const windows = config.schedules.filter((s) => s.environment === environment);
  return {
    protected: env.protected,
    timeoutMs: msToNumber(config.policies.approvalTimeout),
    standing: windows
      .filter((s) => s.approvedBy)
      .map((s) => {
        const input = windowInputSchema.parse(windowInputOf(s));
        return {
          schedule: s.id,
          scheduleId: scheduleIdOnServer(installation, s.id),
          requestedBy: input.requestedBy,
          approvedBy: s.approvedBy!,
          durationMs: input.duration,
          enable: input.changes.enable,
          disable: input.changes.disable,
        };
      }),
    // Only where something is protected: the keys are what every answer there is checked against.
    ...(env.protected && {
      keys: signerKeys(config.people),
      approvers: env.approvers ?? [],
      schedules: windows.map((s) => ({
        scheduleId: scheduleIdOnServer(installation, s.id),
        requestedBy: windowInputOf(s).requestedBy,
      })),
    }),
  };
}

/** The product's workflow types a child operation may have as its parent. */
const PARENT_TYPES = [WORKFLOW_TYPES.window, ROLLOUT_WORKFLOW_TYPE];

/**
 * Checks, at the server, what workflows claim of their origin: that a run was started by the schedule
 * it names (anyone can set TemporalScheduledById when starting a workflow), and what the parent of a
 * child operation vouches for (anyone can start a parent of their own).
 */
export function createTrustActivities({
  client,
  taskQueue,
  installation,
}: {
  client: Client;
  taskQueue: string;
  installation?: string;
}) {
  const refuse = (message: string) => ApplicationFailure.nonRetryable(message, ErrorType.NotTrusted);
  return {
    /**
     * Whether the calling run was started by the schedule `scheduleId` of this installation: the
     * schedule's own record of its recent and running actions lists this workflow and its first run.
     */
    async scheduledRun({ scheduleId, firstRunId }: { scheduleId: string; firstRunId: string }) {
      const { workflowId } = Context.current().info.workflowExecution!;
      try {
        const d = await client.schedule.getHandle(scheduleId).describe();
        const ours =
          d.memo?.managedBy === MANAGED_BY &&
          (d.memo.installation ?? DEFAULT_INSTALLATION) === (installation ?? DEFAULT_INSTALLATION);
        if (!ours)
          return { started: false, why: `schedule ${scheduleId} was not made by \`maint schedule sync\`` };
        const runs = [...d.info.recentActions.map((a) => a.action), ...d.info.runningActions];
        const started = runs.some(
          (a) =>
            a.type === 'startWorkflow' &&
            a.workflow.workflowId === workflowId &&
            a.workflow.firstExecutionRunId === firstRunId,
        );
        return started
          ? { started: true }
          : { started: false, why: `schedule ${scheduleId} did not start ${workflowId}` };
      } catch (err) {
        if (err instanceof ScheduleNotFoundError)
          return { started: false, why: `there is no schedule ${scheduleId}` };
        throw classify(err, `describe schedule ${scheduleId}`);
      }
    },

    /**
     * What the parent of a child operation on a protected environment vouches for: it must be a
     * running window or rollout of this product, on this task queue, serving this environment; then
     * its requester (and, for a window, its verified approval) carry over to the child.
     */
    async parentProof({
      parent,
      environment,
    }: {
      parent: { workflowId: string; runId: string };
      environment: string;
    }): Promise<ParentProof> {
      let d;
      try {
        d = await client.workflow.getHandle(parent.workflowId, parent.runId).describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw refuse(`its parent ${parent.workflowId} does not exist`);
        throw classify(err, `describe ${parent.workflowId}`);
      }
      if (!PARENT_TYPES.includes(d.type))
        throw refuse(
          `its parent ${parent.workflowId} is a ${d.type}, not a window or rollout of this product`,
        );
      if (d.taskQueue !== taskQueue)
        throw refuse(`its parent ${parent.workflowId} runs on task queue ${d.taskQueue}, not ${taskQueue}`);
      if (d.status.name !== 'RUNNING') throw refuse(`its parent ${parent.workflowId} is ${d.status.name}`);
      const handle = client.workflow.getHandle(parent.workflowId, parent.runId);
      if (d.type === ROLLOUT_WORKFLOW_TYPE) {
        const s = await handle.query(rolloutStatusQuery);
        if (!s.environments.some((row) => row.environment === environment))
          throw refuse(`its parent rollout ${parent.workflowId} does not service ${environment}`);
        // A rollout of an earlier release, or one started before its targets were protected, proved
        // nobody: its requester is only the name it was given, and the child still needs a signed approval.
        return { kind: 'rollout', requester: s.requester ?? { person: s.requestedBy, via: 'name' } };
      }
      const s: OperationStatus = await handle.query(statusQuery);
      if (s.environment !== environment)
        throw refuse(`its parent window ${parent.workflowId} is on ${s.environment}, not ${environment}`);
      return { kind: 'window', ...windowProof(s) };
    },
  };
}

/**
 * What a window vouches for. One started by an earlier release (no requester recorded) was approved
 * under that release's rules: its children keep the approval it had.
 */
function windowProof(s: OperationStatus): Omit<ParentProof, 'kind'> {
  const decision = s.approval?.decision;
  if (s.requester)
    return { requester: s.requester, ...(s.approval?.verified && { approved: s.approval.verified }) };
  const requester = { person: s.requestedBy, via: 'name' as const };
  if (s.approval?.standing)
    return { requester, approved: { by: decision?.by ?? '', standing: s.approval.standing } };
  if (decision?.kind === 'approve' && !samePerson(decision.by, s.requestedBy))
    return { requester, approved: { by: decision.by } };
  return { requester };
}
