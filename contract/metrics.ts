/**
 * Names of the product's metrics, served by the worker at /metrics beside the SDK's (`temporal_*`).
 * The workflow ones also carry namespace, task_queue and workflow_type.
 */
export const METRICS = {
  /** Counter {action}: operations started (a window counts once, its enable and disable children too). */
  started: 'maintenance_operations_started_total',
  /** Counter {action, result}: operations finished. */
  finished: 'maintenance_operations_total',
  /** Histogram {action, result}, seconds from start to the record. */
  duration: 'maintenance_operation_duration_seconds',
  /** Histogram {action, awaited: decision|approval, outcome}, seconds an operation waited. */
  awaiting: 'maintenance_awaiting_seconds',
  /** Gauge {environment, state}: 1 for the environment's current state, 0 for the others. */
  environmentState: 'maintenance_environment_state',
  /** Gauge {state}: environments of temporal.yaml in each state. */
  environments: 'maintenance_environments',
  /** Gauge {environment}: 1 while it is in maintenance longer than policies.maximumInMaintenance. */
  environmentOverdue: 'maintenance_environment_overdue',
} as const;
