import { log, startChild } from '@temporalio/workflow';
import type { OperationSettings } from '../activities';
import type { EnvironmentRecord } from '../contract/environment';
import { WORKFLOW_TYPES, operationWorkflowId, type OperationStatus } from '../contract/operation';
import { formatDuration } from '../contract/window';
import { OperationEvents } from './events';
import { now } from './settings';

type Maintenance = NonNullable<EnvironmentRecord['maintenance']>;

/** Who the disable that autoDisable starts is requested by: the policy, by name. */
export const OVERDUE_REQUESTER = 'policy maximumInMaintenance';

/** When maintenance left on by a plain enable becomes overdue; undefined: no limit, or already overdue. */
export function overdueAt(
  m: Maintenance | undefined,
  limit: OperationSettings['overdue'],
): number | undefined {
  if (!m || m.overdueSince || !limit) return undefined;
  return Date.parse(m.since) + limit.maximumMs;
}

/**
 * Maintenance left on by a plain enable longer than policies.maximumInMaintenance (the entity calls it,
 * holding its record, with no lock holder): marks it overdue (`maint list`, the metric), starts a disable
 * requested by the policy where `autoDisable` is on, and sends `maintenance.environment.overdue`. A
 * protected environment gets no automatic disable: there a disable needs a signed request and an
 * approver's signed approval, which a policy cannot give; the event and `maint list` ask a person to.
 */
export async function maintenanceOverdue(r: EnvironmentRecord, settings: OperationSettings): Promise<void> {
  const m = r.maintenance;
  const limit = settings.overdue;
  if (!m || m.overdueSince || r.holder || !limit) return;
  m.overdueSince = now();
  const maximum = formatDuration(limit.maximumMs);
  m.autoDisable = !limit.autoDisable
    ? 'off'
    : settings.approval?.protected
      ? `not on a protected environment: disable it with \`maint disable ${r.environment}\` (signed, approved)`
      : await startDisable(r.environment, m, maximum);
  log.warn('Environment left in maintenance too long', {
    environment: r.environment,
    since: m.since,
    maximum,
  });
  const events = new OperationEvents(statusOf(r.environment, m), settings.events, (message) =>
    log.warn(message, { environment: r.environment }),
  );
  events.overdue({ since: m.since, maximum, autoDisable: m.autoDisable });
  await events.settle();
}

/** The disable, under the operations' business-key ID (so it is refused if one runs already), left to run on its own. */
async function startDisable(environment: string, m: Maintenance, maximum: string): Promise<string> {
  const workflowId = operationWorkflowId(environment);
  try {
    await startChild(WORKFLOW_TYPES.disable, {
      workflowId,
      args: [
        {
          environment,
          requestedBy: OVERDUE_REQUESTER,
          reason: `in maintenance since ${m.since} (enable ${m.operationId} by ${m.requestedBy}), longer than ${maximum}`,
        },
      ],
      // The entity continues as new; the disable must not end with its run.
      parentClosePolicy: 'ABANDON',
      staticSummary: `Disable maintenance mode on ${environment} (${OVERDUE_REQUESTER})`,
    });
    return `started ${workflowId}`;
  } catch (err) {
    return `not started: ${(err as Error).message}`;
  }
}

/** The event's subject: the enable that left maintenance on. */
function statusOf(environment: string, m: Maintenance): OperationStatus {
  return {
    operationId: m.operationId,
    environment,
    action: 'enable',
    requestedBy: m.requestedBy,
    reason: '',
    state: 'InMaintenance',
    phase: 'forward',
    step: null,
    progress: 100,
    steps: [],
    startedAt: m.since,
    awaitingDecision: false,
    availableDecisions: [],
    decisions: [],
  };
}
