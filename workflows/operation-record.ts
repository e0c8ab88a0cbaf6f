import type {
  ErrorInfo,
  LogEntry,
  OperationLog,
  OperationStatus,
  StepName,
  StepRecord,
} from '../contract/operation';

/** The log keeps its newest entries only, so an operation's state (and history) stays bounded. */
export const MAX_LOG_ENTRIES = 500;

const now = () => new Date().toISOString(); // workflow time: deterministic on replay

/** The log of an operation or a rollout: plain JSON, its newest entries only. */
export class LogBook {
  readonly log: OperationLog;

  constructor(header: Pick<OperationLog, 'operationId' | 'runId' | 'environment' | 'action'>) {
    this.log = { ...header, entries: [], dropped: 0 };
  }

  add(entry: Omit<LogEntry, 'at'>): void {
    this.log.entries.push({ at: now(), ...entry });
    if (this.log.entries.length > MAX_LOG_ENTRIES) {
      this.log.entries.shift();
      this.log.dropped++;
    }
  }
}

/** The status, steps and log of one operation: plain JSON, changed only through these methods. */
export class OperationRecord extends LogBook {
  /** Where the rollback steps start in `status.steps` (a step may be in both phases: `disable`). */
  private rollbackStart?: number;

  constructor(
    readonly status: OperationStatus,
    runId: string,
    forwardSteps: readonly StepName[],
    private readonly rollbackSteps: readonly StepName[],
  ) {
    super({ operationId: status.operationId, runId, environment: status.environment, action: status.action });
    status.steps = [...forwardSteps, 'record' as const].map((name): StepRecord => ({
      name,
      status: 'pending',
    }));
  }

  /** The steps of the phase running now. */
  private phase(): StepRecord[] {
    return this.rollbackStart === undefined ? this.status.steps : this.status.steps.slice(this.rollbackStart);
  }

  private step(name: StepName): StepRecord {
    return this.phase().find((s) => s.name === name)!;
  }

  startStep(name: StepName): void {
    Object.assign(this.step(name), {
      status: 'running',
      startedAt: now(),
      finishedAt: undefined,
      detail: undefined,
    });
    this.status.step = name;
    this.add({ kind: 'step', step: name, outcome: 'started', message: `${name} started` });
  }

  succeedStep(name: StepName, detail?: string): void {
    Object.assign(this.step(name), { status: 'succeeded', finishedAt: now(), detail });
    const message = detail ? `${name} succeeded: ${detail}` : `${name} succeeded`;
    this.add({ kind: 'step', step: name, outcome: 'succeeded', message });
    this.updateProgress();
  }

  failStep(name: StepName, error: ErrorInfo): void {
    Object.assign(this.step(name), { status: 'failed', finishedAt: now(), detail: error.message });
    this.status.failure = { step: name, error, at: now() };
    this.add({ kind: 'step', step: name, outcome: 'failed', message: `${name} failed`, error });
  }

  skipStep(name: StepName, why: string): void {
    Object.assign(this.step(name), { status: 'skipped', detail: why });
    this.add({ kind: 'step', step: name, outcome: 'skipped', message: `${name} skipped: ${why}` });
    this.updateProgress();
  }

  /** A step of this run's shape that the settings add (a hook), pending, just before `before`. */
  addStep(name: StepName, before: StepName): void {
    const at = this.status.steps.findIndex((s) => s.name === before);
    this.status.steps.splice(at, 0, { name, status: 'pending' });
    this.updateProgress();
  }

  /** Rollback steps go in before `record`, and progress counts them from then on. */
  beginRollback(): void {
    this.status.phase = 'rollback';
    const record = this.status.steps.pop()!;
    this.rollbackStart = this.status.steps.length;
    this.status.steps.push(
      ...this.rollbackSteps.map((name): StepRecord => ({ name, status: 'pending' })),
      record,
    );
    this.updateProgress();
  }

  private updateProgress(): void {
    const phase = this.phase();
    const done = phase.filter((s) => s.status === 'succeeded' || s.status === 'skipped').length;
    this.status.progress = Math.round((100 * done) / phase.length);
  }
}
