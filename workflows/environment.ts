import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, OperationSettings } from '../activities';
import {
  acquireLockUpdate,
  environmentEntityInputSchema,
  environmentQuery,
  forceUnlockInputSchema,
  forceUnlockUpdate,
  historyQuery,
  importHistoryInputSchema,
  importHistoryUpdate,
  leaveQueueUpdate,
  lockGrantedSignal,
  lockRequestSchema,
  historyEntrySchema,
  operationStateSignal,
  recordEntryUpdate,
  releaseLockUpdate,
  releaseRequestSchema,
  type EnvironmentRecord,
  type HistoryEntry,
  type LockAnswer,
  type LockHolder,
  type LockRequest,
  type OperationRef,
  type ReleaseRequest,
} from '../contract/environment';
import { ErrorType } from '../contract/errors';
import { searchAttributes, type EnvironmentState } from '../contract/operation';
import { formatIssues } from '../contract/validation';
import { now, resolveEnvironment } from './settings';

const { checkHolder } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
});

const same = (a: OperationRef, b: OperationRef) => a.workflowId === b.workflowId && a.lineage === b.lineage;
/** One history entry per operation: a retried release, or one after a Reset, finds it recorded. */
const entryKey = (e: HistoryEntry) =>
  e.action === 'unlock' ? undefined : `${e.operationId}/${e.lineage ?? e.runId}`;
const UNSETTLED: EnvironmentState[] = [
  'EnablingMaintenance',
  'DisablingMaintenance',
  'RollingBack',
  'Failed',
];

function parseInput(raw: unknown) {
  const parsed = environmentEntityInputSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw ApplicationFailure.nonRetryable(
    `Invalid input for maintenanceEnvironment:\n${formatIssues(parsed.error)}\n` +
      'This workflow is started by the operations themselves; start an operation instead.',
    ErrorType.InvalidInput,
  );
}

/**
 * The environment entity: owns the servicing lock (shared by a window with its children, refused to
 * anyone else), the queue of operations waiting for it, the environment's state and its history, one
 * entry per operation, exactly once. Checks that a holder still runs, on contention and periodically,
 * and releases the lock of one that has closed. Continues as new before its history grows large.
 */
export async function maintenanceEnvironment(raw: unknown): Promise<void> {
  const input = parseInput(raw);
  const entity = new EnvironmentEntity(
    input.record ?? {
      environment: input.environment,
      state: 'Deployed',
      sharers: [],
      queue: [],
      history: [],
      dropped: 0,
    },
  );
  await entity.run();
}

class EnvironmentEntity {
  private settings?: OperationSettings;
  /** Handlers that await (a liveness check, a grant) run one at a time. */
  private busy = false;
  private publishedState?: EnvironmentState;

  constructor(private readonly r: EnvironmentRecord) {
    setHandler(environmentQuery, () => ({
      environment: r.environment,
      state: r.state,
      holder: r.holder,
      active: r.sharers[r.sharers.length - 1] ?? r.holder,
      queue: r.queue,
      recent: newestFirst(r.history, 10),
      historyLength: r.history.length + r.dropped,
    }));
    setHandler(historyQuery, (options) => newestFirst(r.history, options?.limit ?? 50));
    setHandler(acquireLockUpdate, (req) => this.exclusive(() => this.acquire(req)), {
      validator: (req) => void lockRequestSchema.parse(req),
    });
    setHandler(releaseLockUpdate, (req) => this.exclusive(() => this.release(req)), {
      validator: (req) => void releaseRequestSchema.parse(req),
    });
    setHandler(
      recordEntryUpdate,
      (entry) =>
        this.exclusive(async () => {
          const inserted = this.record(entry);
          this.publish();
          return { inserted };
        }),
      { validator: (entry) => void historyEntrySchema.parse(entry) },
    );
    setHandler(leaveQueueUpdate, (ref) => this.exclusive(async () => this.leaveQueue(ref)));
    setHandler(
      forceUnlockUpdate,
      (input) => this.exclusive(() => this.forceUnlock(forceUnlockInputSchema.parse(input))),
      {
        validator: (input) => void forceUnlockInputSchema.parse(input),
        description: 'Release the lock by force. Input: {"by": "your.name", "reason": "..."}',
      },
    );
    setHandler(
      importHistoryUpdate,
      ({ entries, holder }) =>
        this.exclusive(async () => {
          const imported = entries.filter((e) => this.record(e)).length;
          if (holder && !r.holder) r.holder = holder;
          this.publish();
          return { imported, holder: r.holder };
        }),
      { validator: (input) => void importHistoryInputSchema.parse(input) },
    );
    setHandler(operationStateSignal, ({ workflowId, lineage, state }) => {
      const ref = { workflowId, lineage, runId: '' };
      if ((r.holder && same(r.holder, ref)) || r.sharers.some((s) => same(s, ref))) this.setState(state);
    });
  }

  async run(): Promise<void> {
    this.settings = await resolveEnvironment({ environment: this.r.environment });
    this.publish();
    const { lockCheckIntervalMs } = this.settings.environment;
    let checks = 0;
    while (!this.shouldContinueAsNew()) {
      const holder = this.r.holder;
      if (!holder) {
        await condition(() => this.r.holder !== undefined || this.shouldContinueAsNew());
        checks = 0;
        continue;
      }
      // Checks space out while one holder keeps the lock (a decision may take days): 1, 2, 4 ... 12 intervals.
      const wait = lockCheckIntervalMs * Math.min(2 ** checks, 12);
      if (await condition(() => this.r.holder !== holder || this.shouldContinueAsNew(), wait)) checks = 0;
      else {
        checks++;
        await this.exclusive(() => this.releaseIfClosed(holder));
      }
    }
    await condition(() => allHandlersFinished() && !this.busy);
    log.info('Environment entity continues as new', { environment: this.r.environment });
    await continueAsNew<typeof maintenanceEnvironment>({ environment: this.r.environment, record: this.r });
  }

  private shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    const limit = this.settings?.environment.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength > limit);
  }

  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.busy || !this.settings) await condition(() => !this.busy && this.settings !== undefined);
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
    }
  }

  private async acquire(req: LockRequest): Promise<LockAnswer> {
    const r = this.r;
    if (r.holder && same(r.holder, req)) {
      r.holder.runId = req.runId; // a retried request, or the holder reset from the Web UI
      return { acquired: true, shared: false };
    }
    const parent = req.parent;
    if (r.holder && parent?.workflowId === r.holder.workflowId) {
      if (parent.runId === r.holder.runId || (await this.isAlive(r.holder))) {
        r.sharers = [...r.sharers.filter((s) => !same(s, req)), this.holderOf(req)];
        if (req.state) this.setState(req.state);
        return { acquired: true, shared: true };
      }
    }
    // A holder that closed without releasing loses the lock; a waiter, if any, is served first.
    const stale = r.holder && (await this.releaseIfClosed(r.holder));
    if (!r.holder) {
      r.holder = this.holderOf(req);
      if (req.state) this.setState(req.state);
      this.publish();
      return { acquired: true, shared: false, takenOverFrom: stale ? stale.workflowId : undefined };
    }
    if (!req.wait) return { acquired: false, holder: r.holder };
    if (!r.queue.some((w) => same(w, req))) r.queue.push(this.holderOf(req));
    this.publish();
    return { acquired: false, holder: r.holder, position: r.queue.findIndex((w) => same(w, req)) + 1 };
  }

  private async release(req: ReleaseRequest): Promise<{ inserted: boolean; released: boolean }> {
    const r = this.r;
    const { state, ...entry } = req;
    const inserted = this.record(entry);
    const ref = { workflowId: req.operationId, lineage: req.lineage, runId: req.runId };
    let released = false;
    if (r.holder && same(r.holder, ref)) {
      released = true;
      this.setState(state);
      await this.handOver();
    } else if (r.sharers.some((s) => same(s, ref))) {
      r.sharers = r.sharers.filter((s) => !same(s, ref));
      this.setState(state);
    } else if (!r.holder && inserted) {
      // An operation of the first release, whose lock was in its own store, ends here.
      this.setState(state);
    }
    this.publish();
    return { inserted, released };
  }

  private leaveQueue(ref: OperationRef): { held: boolean } {
    this.r.queue = this.r.queue.filter((w) => !same(w, ref));
    this.publish();
    return { held: !!this.r.holder && same(this.r.holder, ref) };
  }

  private async forceUnlock({ by, reason }: { by: string; reason: string }) {
    const previous = this.r.holder;
    if (!previous) return {};
    const at = now();
    this.record({
      operationId: previous.workflowId,
      runId: previous.runId,
      environment: this.r.environment,
      action: 'unlock',
      requestedBy: by,
      reason,
      startedAt: at,
      finishedAt: at,
      result: 'Released',
      detail: `lock released by force; it was held by ${describeHolder(previous)}`,
      decisions: [],
    });
    await this.handOver();
    this.publish();
    return { previous };
  }

  /** Releases the lock of a holder that has closed (terminated, timed out) with an entry that says so. */
  private async releaseIfClosed(holder: LockHolder): Promise<LockHolder | undefined> {
    const check = await this.check(holder);
    if (check.alive || this.r.holder !== holder) return undefined;
    this.record({
      operationId: holder.workflowId,
      runId: holder.runId,
      lineage: holder.lineage,
      environment: this.r.environment,
      action: holder.action,
      requestedBy: holder.requestedBy,
      reason: '',
      startedAt: holder.since,
      finishedAt: now(),
      result: 'Released',
      detail: `the operation closed (${check.status}) without releasing the lock; the environment released it`,
      decisions: [],
    });
    log.warn('Released the lock of a closed holder', { holder, status: check.status });
    if (UNSETTLED.includes(this.r.state)) this.setState('Failed');
    await this.handOver();
    this.publish();
    return holder;
  }

  private async isAlive(holder: LockHolder): Promise<boolean> {
    return (await this.check(holder)).alive;
  }

  private async check(holder: LockHolder): Promise<{ alive: boolean; status: string }> {
    try {
      return await checkHolder(holder);
    } catch (err) {
      // Unknown is not closed: keep the lock rather than risk two operations at once.
      log.warn('Could not check the lock holder', { holder, error: (err as Error).message });
      return { alive: true, status: 'unknown' };
    }
  }

  /** The lock is free: the next waiter that still runs gets it and is told so. */
  private async handOver(): Promise<void> {
    const r = this.r;
    r.holder = undefined;
    r.sharers = [];
    while (r.queue.length > 0) {
      const next = { ...r.queue.shift()!, since: now() };
      r.holder = next;
      try {
        await getExternalWorkflowHandle(next.workflowId, next.runId).signal(lockGrantedSignal, {
          environment: r.environment,
          holder: next,
        });
        return;
      } catch (err) {
        log.warn('A queued operation is gone; serving the next', { next, error: (err as Error).message });
        r.holder = undefined;
      }
    }
  }

  /** Adds an entry once per operation; keeps the newest `history.keep`. */
  private record(entry: HistoryEntry): boolean {
    const r = this.r;
    const key = entryKey(entry);
    if (key && r.history.some((e) => entryKey(e) === key)) return false;
    r.history.push(entry);
    const excess = r.history.length - this.settings!.environment.historyKeep;
    if (excess > 0) {
      r.history.splice(0, excess);
      r.dropped += excess;
    }
    return true;
  }

  private holderOf(req: LockRequest): LockHolder {
    const { workflowId, runId, lineage, action, requestedBy } = req;
    return { workflowId, runId, lineage, action, requestedBy, since: now() };
  }

  private setState(state: EnvironmentState): void {
    this.r.state = state;
    this.publish();
  }

  /** The search attributes (only when the state changed) and Current Details for the Web UI. */
  private publish(): void {
    const r = this.r;
    if (this.settings?.searchAttributes && this.publishedState !== r.state) {
      upsertSearchAttributes([
        { key: searchAttributes.environment, value: r.environment },
        { key: searchAttributes.state, value: r.state },
      ]);
      this.publishedState = r.state;
    }
    const lock = r.holder ? `held by ${describeHolder(r.holder)}` : 'free';
    const queue = r.queue.map((w, i) => `${i + 1}. ${describeHolder(w)}`);
    const recent = newestFirst(r.history, 10).map(
      (e) =>
        `- ${e.finishedAt.slice(0, 16).replace('T', ' ')} **${e.action}** ${e.result} (${e.requestedBy}) ${e.operationId}`,
    );
    setCurrentDetails(
      [
        `**${r.environment}**: ${r.state}`,
        `Servicing lock: ${lock}`,
        ...(queue.length > 0 ? ['Waiting:', ...queue] : []),
        `Last operations (${r.history.length + r.dropped} in all; \`maint history ${r.environment}\`):`,
        ...(recent.length > 0 ? recent : ['- none yet']),
      ].join('\n\n'),
    );
  }
}

/** By start time, as before: a window lists after its child operations, which it started. */
function newestFirst(history: HistoryEntry[], limit: number): HistoryEntry[] {
  return [...history].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
}

function describeHolder(h: LockHolder): string {
  return `${h.workflowId} (${h.action} requested by ${h.requestedBy} since ${h.since})`;
}
