/**
 * The contract shared by workflows, activities, the worker and the CLI: names, schemas, message
 * definitions and search attributes. Import-safe in workflow code (no Node APIs, no I/O).
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';

export const TASK_QUEUE_DEFAULT = 'maintenance';

export const ACTIONS = ['enable', 'disable'] as const;
export type Action = (typeof ACTIONS)[number];

export const WORKFLOW_TYPES = {
  enable: 'enableMaintenanceMode',
  disable: 'disableMaintenanceMode',
} as const satisfies Record<Action, string>;

/** Environment states of the source article's servicing model, as shown in queries and the UI. */
export const ENVIRONMENT_STATES = [
  'Deployed',
  'EnablingMaintenance',
  'InMaintenance',
  'DisablingMaintenance',
  'Failed',
  'RollingBack',
] as const;
export type EnvironmentState = (typeof ENVIRONMENT_STATES)[number];

/** Custom search attributes (registered on the dev server by `npm start` and the tests). */
export const searchAttributes = {
  environment: defineSearchAttributeKey('MaintenanceEnvironment', 'KEYWORD'),
  action: defineSearchAttributeKey('MaintenanceAction', 'KEYWORD'),
  state: defineSearchAttributeKey('MaintenanceState', 'KEYWORD'),
};
export const SEARCH_ATTRIBUTE_KEYS = Object.values(searchAttributes);

export const environmentNameSchema = z
  .string({ required_error: 'name the environment, e.g. "contoso-sandbox"' })
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'environment names are lower-case letters, digits and dashes');

export const servicingInputSchema = z
  .object({
    environment: environmentNameSchema,
    requestedBy: z
      .string({ required_error: 'say who asks for this operation, e.g. "jane.doe"' })
      .trim()
      .min(1, 'say who asks for this operation, e.g. "jane.doe"')
      .max(100),
    reason: z.string().trim().max(500).default(''),
  })
  .strict();
export type ServicingInput = z.input<typeof servicingInputSchema>;
export type ValidServicingInput = z.infer<typeof servicingInputSchema>;

/** What an operator can paste into the Web UI's Start Workflow form. */
export const EXAMPLE_INPUT: ServicingInput = {
  environment: 'contoso-sandbox',
  requestedBy: 'jane.doe',
  reason: 'Enable configuration keys for the new warehouse',
};

export const STEPS = ['preflight', 'flipFlag', 'restartAos', 'verify', 'record'] as const;
export type StepName = (typeof STEPS)[number];
export const STEP_TITLES: Record<StepName, string> = {
  preflight: 'Preflight: check reachability, snapshot state',
  flipFlag: 'Set CONFIGURATIONMODE',
  restartAos: 'Restart AOS instances',
  verify: 'Verify topology and sign-in rules',
  record: 'Record in environment history',
};

export const aosRoleSchema = z.enum(['interactive', 'batch']);
export type AosRole = z.infer<typeof aosRoleSchema>;

/** What preflight captures for rollback and for "already in the requested mode". */
export const environmentSnapshotSchema = z.object({
  configurationMode: z.union([z.literal(0), z.literal(1)]),
  instances: z.array(
    z.object({
      id: z.string(),
      role: aosRoleSchema,
      running: z.boolean(),
      maintenanceMode: z.boolean().nullable(),
    }),
  ),
});
export type EnvironmentSnapshot = z.infer<typeof environmentSnapshotSchema>;

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'skipped' | 'failed';
export interface StepRecord {
  name: StepName;
  status: StepStatus;
  startedAt?: string;
  finishedAt?: string;
  detail?: string;
}

export type Outcome = 'Succeeded' | 'AlreadyInMode';

export interface OperationStatus {
  operationId: string;
  environment: string;
  action: Action;
  requestedBy: string;
  reason: string;
  state: EnvironmentState;
  /** The step running now, or the last one when the operation has ended. */
  step: StepName | null;
  /** Percentage of steps done, 0 to 100. */
  progress: number;
  steps: StepRecord[];
  startedAt: string;
  finishedAt?: string;
  outcome?: Outcome;
  failure?: { step: StepName; message: string; type?: string };
}

export interface ServicingResult {
  operationId: string;
  environment: string;
  action: Action;
  outcome: Outcome;
  state: EnvironmentState;
  startedAt: string;
  finishedAt: string;
  before: EnvironmentSnapshot;
  steps: StepRecord[];
}

export const statusQuery = defineQuery<OperationStatus>('status');

/** Workflow IDs are business keys: one per environment for operations started by the CLI. */
export function operationWorkflowId(environment: string): string {
  return `maintenance-${environment}`;
}

export function targetState(action: Action): EnvironmentState {
  return action === 'enable' ? 'InMaintenance' : 'Deployed';
}

export function transitionalState(action: Action): EnvironmentState {
  return action === 'enable' ? 'EnablingMaintenance' : 'DisablingMaintenance';
}
