/**
 * Dry runs: what an operation would do, built from the environment as read-only calls found it. The
 * steps are those the workflows run (workflows/servicing.ts, workflows/window.ts), each change as its
 * driver would make it (`describe`: for the command driver, the exact command, secrets masked).
 */
import type { EnvironmentEntities } from '../client/environment-entity';
import { environmentFreezePeriods } from '../config/freezes';
import type { Config } from '../config/schema';
import { describeFreeze, freezeAt, freezeOverlapping, type FreezePeriod } from '../contract/freeze';
import type { LockHolder } from '../contract/environment';
import type { Action, EnvironmentSnapshot } from '../contract/operation';
import { isInTargetMode, planAosSteps, type OperationPlan, type PlanRequest } from '../contract/plan';
import { formatDuration } from '../contract/window';
import type { AosState, PlannedCall, ProbeUsers } from '../drivers/capabilities';
import { environmentDrivers, guarded, type DriverDeps } from './guards';
import { readImpact } from './impact';
import type { ImpactPreview } from '../contract/impact';

export interface PlanFacts {
  configurationMode: 0 | 1;
  aos: AosState[];
  users: ProbeUsers;
  /** The License configuration, read when the window changes keys. */
  keys?: Record<string, boolean>;
  holder?: LockHolder;
  protected: boolean;
  /** Who may approve on a protected environment. */
  approvers?: string[];
  approvalTimeout: string;
  /** The environment's change-freeze periods from `now` on, and the time the plan is made (ms). */
  freezes?: FreezePeriod[];
  now?: number;
  /** Who turning maintenance mode on would affect now (enable and window plans). */
  impact?: ImpactPreview;
}

type Step = OperationPlan['steps'][number];
type Describe = (call: PlannedCall) => string;

const snapshotOf = (f: PlanFacts): EnvironmentSnapshot => ({
  configurationMode: f.configurationMode,
  instances: f.aos.map(({ id, role, running, maintenanceMode }) => ({ id, role, running, maintenanceMode })),
});

function signInChecks(action: Action, users: ProbeUsers): string[] {
  const tries: [string | undefined, string][] =
    action === 'enable'
      ? [
          [users.administrator, 'signs in'],
          [users.maintenanceUser, 'signs in'],
          [users.regularUser, 'is refused'],
        ]
      : [
          [users.administrator, 'signs in'],
          [users.regularUser, 'signs in'],
        ];
  const named = tries.filter(([user]) => user).map(([user, outcome]) => `check that ${user} ${outcome}`);
  return named.length > 0 ? named : ['sign-in not probed: the driver names no users to try'];
}

/** The flag, AOS and verify steps of enable or disable, from the environment as it is (or will be). */
function servicingSteps(action: Action, facts: PlanFacts, describe: Describe, prefix = ''): Step[] {
  const snapshot = snapshotOf(facts);
  if (isInTargetMode(action, snapshot))
    return [
      { step: `${prefix}flipFlag, restartAos, verify`, does: ['skipped: already in the requested mode'] },
    ];
  const value = action === 'enable' ? 1 : 0;
  const aos = planAosSteps(action, snapshot).map(({ aosId, action: what }) =>
    describe({ capability: 'aosControl', call: what === 'restart' ? 'restartAos' : 'stopAos', aosId }),
  );
  return [
    { step: `${prefix}flipFlag`, does: [describe({ capability: 'flagStore', call: 'writeFlag', value })] },
    { step: `${prefix}restartAos (in parallel, each waited for)`, does: aos },
    {
      step: `${prefix}verify`,
      does: [
        `check CONFIGURATIONMODE = ${value}`,
        action === 'enable'
          ? 'check exactly one interactive and one batch AOS run, both in maintenance mode'
          : 'check every AOS runs, out of maintenance mode',
        ...signInChecks(action, facts.users),
      ],
    },
  ];
}

function preflight(request: PlanRequest, facts: PlanFacts): { step: Step; refusal?: string } {
  const unsettled = facts.aos.filter((a) => a.status !== 'running' && a.status !== 'stopped');
  const does = [
    facts.holder
      ? `take the servicing lock: held now by ${facts.holder.workflowId}`
      : 'take the servicing lock (free now)',
    `snapshot to roll back to: CONFIGURATIONMODE ${facts.configurationMode}, running ${
      facts.aos
        .filter((a) => a.running)
        .map((a) => a.id)
        .join(', ') || 'none'
    }`,
    ...unsettled.map((a) => `${a.id} is ${a.status}: waited for up to 30 s, else preflight fails`),
  ];
  const names = [...(request.changes?.enable ?? []), ...(request.changes?.disable ?? [])];
  const unknown = facts.keys ? names.filter((n) => !(n in facts.keys!)) : [];
  if (names.length > 0) does.push(`check the configuration keys exist: ${names.join(', ')}`);
  const refusal = unknown.length
    ? `Unknown configuration key${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}. Known keys: ${Object.keys(facts.keys!).join(', ')}.`
    : facts.holder && request.action !== 'window'
      ? `${request.environment} is busy: ${facts.holder.workflowId} (${facts.holder.action} by ${facts.holder.requestedBy}) holds it`
      : undefined;
  if (facts.holder && request.action === 'window')
    does.push('busy now: the window would wait for the lock (policies.windows.busyTimeout)');
  const frozen = freezeRefusal(request, facts);
  does.push(...frozen.does);
  return { step: { step: 'preflight', does }, refusal: frozen.refusal ?? refusal };
}

/** What the environment's change freezes mean for this operation now, and over a window's length. */
function freezeRefusal(request: PlanRequest, facts: PlanFacts): { refusal?: string; does: string[] } {
  const periods = facts.freezes ?? [];
  const now = facts.now ?? Date.now();
  const current = freezeAt(periods, now);
  if (current) {
    const lift = facts.protected
      ? 'an approver can grant an exception for one run (`maint freeze except`)'
      : 'the environment is not protected, so no exception can be granted';
    return {
      refusal: `${request.environment} is in the ${describeFreeze(current)}: the ${request.action} would be refused; ${lift}`,
      does: [],
    };
  }
  const next = periods.find((p) => Date.parse(p.start) > now);
  const during =
    request.action === 'window' && freezeOverlapping(periods, now, now + (request.duration ?? 0));
  return {
    does: [
      ...(next ? [`not frozen now; next ${describeFreeze(next)}: starts are refused then`] : []),
      ...(during
        ? [
            `the ${describeFreeze(during)} begins while the window is open: the window is not cut, but extend-window into it is refused`,
          ]
        : []),
    ],
  };
}

function windowSteps(request: PlanRequest, facts: PlanFacts, describe: Describe): Step[] {
  const keptOn = isInTargetMode('enable', snapshotOf(facts));
  const wanted = [
    ...(request.changes?.enable ?? []).map((k) => [k, true] as const),
    ...(request.changes?.disable ?? []).map((k) => [k, false] as const),
  ];
  const keys = wanted.map(([key, enabled]) =>
    facts.keys?.[key] === enabled
      ? `${key} is already ${enabled ? 'enabled' : 'disabled'}: unchanged`
      : describe({ capability: 'license', call: 'setKey', key, enabled }),
  );
  // After the enable child every AOS of the topology comes back with disable: its plan restarts them all.
  const afterEnable: PlanFacts = { ...facts, configurationMode: 1 };
  return [
    ...(keptOn
      ? [{ step: 'enable', does: ['skipped: maintenance mode is on already, and stays on after the window'] }]
      : servicingSteps('enable', facts, describe, 'enable: ')),
    { step: 'applyChanges', does: keys.length > 0 ? keys : ['no configuration key changes'] },
    {
      step: 'window',
      does: [
        `stay open ${formatDuration(request.duration ?? 0)}; end-window closes it early, extend-window keeps it open longer`,
      ],
    },
    ...(keptOn
      ? [{ step: 'disable', does: ['skipped: maintenance mode was on when the window opened'] }]
      : servicingSteps('disable', afterEnable, describe, 'disable: ')),
  ];
}

export function buildPlan(request: PlanRequest, facts: PlanFacts, describe: Describe): OperationPlan {
  const first = preflight(request, facts);
  const approval: Step[] = facts.protected
    ? [
        {
          step: 'approval',
          does: [
            'prove the requester: a start signed with their SSH key, or a run its schedule started (protected environment)',
            `wait up to ${facts.approvalTimeout} for an approval signed by one of ${(facts.approvers ?? []).join(', ') || 'its approvers'} other than the requester`,
          ],
        },
      ]
    : [];
  const steps =
    request.action === 'window'
      ? windowSteps(request, facts, describe)
      : servicingSteps(request.action, facts, describe);
  return {
    dryRun: true,
    environment: request.environment,
    action: request.action,
    current: {
      configurationMode: facts.configurationMode,
      aos: facts.aos.map((a) => `${a.id} ${a.role} ${a.status}${a.maintenanceMode ? ' (maintenance)' : ''}`),
      ...(facts.holder && {
        holder: `${facts.holder.workflowId} (${facts.holder.action} by ${facts.holder.requestedBy})`,
      }),
    },
    ...(facts.impact && { impact: facts.impact }),
    ...(first.refusal && { refusal: first.refusal }),
    steps: [
      ...approval,
      first.step,
      ...steps,
      { step: 'record', does: ['write the history entry and release the lock'] },
    ],
  };
}

export interface PlanDeps extends DriverDeps {
  /** Where the lock's holder is read. */
  entities: EnvironmentEntities;
  policies: Config['policies'];
  freezes?: Config['freezes'];
}

/** The dry run of `maint plan` and of operations started with `"dryRun": true`. */
export function createPlanActivities(deps: PlanDeps) {
  return {
    /**
     * A dry run: what the operation would do now, from read-only calls (flag, AOS, License configuration,
     * probe users, the lock); changes nothing.
     */
    async planOperation(request: PlanRequest): Promise<OperationPlan> {
      const d = environmentDrivers(deps, request.environment);
      const facts = await guarded(d, 'read the environment for a plan', async (signal) => {
        const names = [...(request.changes?.enable ?? []), ...(request.changes?.disable ?? [])];
        const [configurationMode, aos, users, keys, view, impact] = await Promise.all([
          d.flagStore.readConfigurationMode(signal),
          d.aosControl.list(signal),
          d.probe.probeUsers(signal),
          names.length > 0 ? d.license.list(signal) : undefined,
          deps.entities.view(request.environment),
          // Turning maintenance mode off affects nobody: only enable and window plans preview it.
          request.action === 'disable' ? undefined : readImpact(d, request.duration, signal),
        ]);
        return { configurationMode, aos, users, keys, holder: view?.holder, impact };
      });
      const now = Date.now();
      const freezes = environmentFreezePeriods(
        deps.freezes ?? [],
        deps.environments,
        request.environment,
        now,
        now + 31 * 86_400_000,
      );
      return buildPlan(
        request,
        {
          ...facts,
          freezes,
          now,
          protected: deps.environments[request.environment].protected,
          approvers: deps.environments[request.environment].approvers,
          approvalTimeout: String(deps.policies.approvalTimeout),
        },
        (call) => d.describe(call),
      );
    },
  };
}
