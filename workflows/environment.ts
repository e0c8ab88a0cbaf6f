import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, OperationSettings } from '../activities';
import {
  LIMITS,
  acquireLockUpdate,
  environmentEntityInputSchema,
  entityTaskQueue,
  environmentWorkflowId,
  environmentQuery,
  forceUnlockInputSchema,
  forceUnlockUpdate,
  historyQuery,
  importHistoryInputSchema,
  importHistoryUpdate,
  jsonBytes,
  leaveQueueUpdate,
  lockGrantedSignal,
  lockRequestSchema,
  historyEntrySchema,
  operationStateSignal,
  recordEntryUpdate,
  releaseLockUpdate,
  releaseRequestSchema,
  type EnvironmentRecord,
  type ForceUnlockInput,
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
import { maintenanceOverdue, overdueAt } from './overdue';
import { Patches, now, resolveEnvironment } from './settings';

/**
 * The entity's own activities: on entityTaskQueue where Patches.entityQueue holds, else (runs started
 * before it) on the workflow's task queue.
 */
function entityActivities(ownQueue: boolean) {
  const taskQueue = ownQueue ? entityTaskQueue(workflowInfo().taskQueue) : undefined;
  const { checkHolder } = proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '30s',
    retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 5 },
  });
  /** Reading the previous run replays it on a worker: give it time. */
  const { recoverEnvironment } = proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '2m',
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 3 },
  });
  return { checkHolder, recoverEnvironment };
}
type EntityActivities = ReturnType<typeof entityActivities>;
/** How long the entity waits before it tries again to read its settings or recover its record. */
const RETRY_WAIT = '1 minute';

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

function parseInput(raw: unknown, durable: boolean) {
  const parsed = environmentEntityInputSchema.safeParse(raw);
  const ownId = parsed.success && environmentWorkflowId(parsed.data.environment);
  if (parsed.success && (!durable || workflowInfo().workflowId === ownId)) return parsed.data;
  if (parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `The entity of ${parsed.data.environment} runs as workflow ${ownId}, not ${workflowInfo().workflowId}. ` +
        'It is started by the operations themselves; start an operation instead.',
      ErrorType.InvalidInput,
    );
  }
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
  const durable = patched(Patches.entityRecovers);
  // Every run checks it anew (before the first await), so an entity of an earlier release watches from its next run on.
  const watches = patched(Patches.environmentOverdue);
  const act = entityActivities(patched(Patches.entityQueue));
  const input = parseInput(raw, durable);
  // A record is the entity's own only when it continued as new: typed into a fresh start, it is ignored.
  const carried = !durable || workflowInfo().continuedFromExecutionRunId ? input.record : undefined;
  if (input.record && !carried) log.warn('Ignored a record given to a fresh start of the entity', { input });
  const entity = new EnvironmentEntity(
    carried ?? {
      environment: input.environment,
      state: 'Deployed',
      sharers: [],
      queue: [],
      history: [],
      dropped: 0,
    },
    durable,
    watches,
    act,
  );
  await entity.run(durable && !carried ? { previousRunId: input.previousRunId } : undefined);
}

class EnvironmentEntity {
  private settings?: OperationSettings;
  /** Settings read and, for a recreated entity, its lock and state recovered: handlers may run. */
  private ready = false;
  /** Handlers that await (a liveness check, a grant) run one at a time. */
  private busy = false;
  private publishedState?: EnvironmentState;
  /** The history's size as UTF-8 JSON, kept under LIMITS.historyBytes. */
  private historyBytes: number;
  /** Why the entity cannot serve yet (no settings, recovery failing), for Current Details. */
  private waiting?: string;

  /**
   * `durable`: the shape of Patches.entityRecovers; runs started before it keep theirs. `watches`:
   * Patches.environmentOverdue, the watch of maintenance left on (workflows/overdue.ts).
   */
  constructor(
    private readonly r: EnvironmentRecord,
    private readonly durable: boolean,
    private readonly watches: boolean,
    private readonly act: EntityActivities,
  ) {
    this.historyBytes = r.history.reduce((sum, e) => sum + entryBytes(e), 0);
    setHandler(environmentQuery, () => ({
      environment: r.environment,
      state: r.state,
      holder: r.holder,
      active: r.sharers[r.sharers.length - 1] ?? r.holder,
      queue: r.queue,
      recent: newestFirst(r.history, 10),
      historyLength: r.history.length + r.dropped,
      ...(r.maintenance && { maintenance: r.maintenance }),
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
        validator: (input) => {
          const changed = this.changedHands(forceUnlockInputSchema.parse(input));
          if (changed) throw changed;
        },
        description:
          'Release the lock by force. Input: {"by": "your.name", "reason": "...", "expected": {"workflowId": "...", "lineage": "..."}}',
      },
    );
    setHandler(
      importHistoryUpdate,
      ({ entries, holder, id }) =>
        this.exclusive(async () => {
          // A request applied before is not applied again: its entries may have been dropped since.
          const again = id !== undefined && (r.imports ?? []).includes(id);
          const imported = again ? 0 : entries.filter((e) => this.record(e)).length;
          if (id !== undefined && !again) r.imports = [...(r.imports ?? []), id].slice(-LIMITS.imports);
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

  async run(recreated?: { previousRunId?: string }): Promise<void> {
    this.settings = await this.readSettings();
    this.trim();
    if (recreated) await this.recover(recreated.previousRunId);
    this.ready = true;
    this.publish();
    const { lockCheckIntervalMs } = this.settings.environment;
    let checks = 0;
    while (!this.shouldContinueAsNew()) {
      const holder = this.r.holder;
      if (!holder) {
        const watched = this.r.maintenance;
        const due = this.watches ? overdueAt(watched, this.settings.overdue) : undefined;
        const woken = () =>
          this.r.holder !== undefined || this.shouldContinueAsNew() || this.r.maintenance !== watched;
        if (due === undefined) await condition(woken);
        else if (!(await condition(woken, Math.max(1, due - Date.now())))) {
          // Marked overdue before its first await: a lock request meanwhile does not run it twice.
          const overdue = maintenanceOverdue(this.r, this.settings);
          this.publish();
          await overdue;
        }
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

  /**
   * The environment's settings. A worker whose temporal.yaml lacks the environment (or a failing read)
   * does not end the entity, which would forget the lock: it says so and tries again, while requests wait.
   */
  private async readSettings(): Promise<OperationSettings> {
    const environment = this.r.environment;
    for (;;) {
      try {
        const settings = await resolveEnvironment({ environment });
        this.waiting = undefined;
        return settings;
      } catch (err) {
        if (!this.durable) throw err;
        this.wait(
          `cannot read the settings of ${environment} on worker ${workflowInfo().taskQueue}: ${(err as Error).message} ` +
            `Declare ${environment} in the temporal.yaml of every worker of this task queue. Requests wait; trying again every minute.`,
        );
        await sleep(RETRY_WAIT);
      }
    }
  }

  /**
   * A recreated entity (its previous run was terminated, failed or timed out) learns the lock, the
   * queue, the state and the history from the previous run and the operations still running, before
   * it grants anything. Until it can, requests wait.
   */
  private async recover(previousRunId: string | undefined): Promise<void> {
    const info = workflowInfo();
    for (;;) {
      try {
        const found = await this.act.recoverEnvironment({
          environment: this.r.environment,
          runId: info.runId,
          previousRunId,
          keep: this.settings!.environment.historyKeep,
        });
        this.waiting = undefined;
        if (!found) return;
        const { note, ...record } = found;
        Object.assign(this.r, record);
        this.historyBytes = this.r.history.reduce((sum, e) => sum + entryBytes(e), 0);
        this.trim();
        log.warn('Environment entity recreated: recovered its lock and state', { note, record: found });
        return;
      } catch (err) {
        this.wait(
          `recreated: cannot yet read what the previous run held (${(err as Error).message}). ` +
            'Nothing is granted until it can; trying again every minute.',
        );
        await sleep(RETRY_WAIT);
      }
    }
  }

  private shouldContinueAsNew(): boolean {
    const info = workflowInfo();
    const limit = this.settings?.environment.continueAsNewAfterEvents;
    return info.continueAsNewSuggested || (limit !== undefined && info.historyLength > limit);
  }

  private wait(why: string): void {
    this.waiting = why;
    log.warn('Environment entity waits', { environment: this.r.environment, why });
    this.publish();
  }
  private async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.busy || !this.ready) await condition(() => !this.busy && this.ready);
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
    const queued = r.queue.find((w) => same(w, req));
    if (queued && this.durable) Object.assign(queued, { runId: req.runId, state: req.state }); // reset while queued
    if (!queued) {
      if (this.durable && r.queue.length >= LIMITS.queue) return { acquired: false, holder: r.holder };
      r.queue.push(this.durable ? { ...this.holderOf(req), state: req.state } : this.holderOf(req));
    }
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
      const plainEnable = r.holder.action === 'enable' && req.result === 'Succeeded';
      this.setState(state);
      if (this.watches && plainEnable && state === 'InMaintenance')
        r.maintenance = {
          since: req.finishedAt,
          operationId: req.operationId,
          lineage: req.lineage,
          requestedBy: req.requestedBy,
        };
      await this.handOver();
    } else if (r.sharers.some((s) => same(s, ref))) {
      r.sharers = r.sharers.filter((s) => !same(s, ref));
      this.setState(state);
    } else if (this.durable && r.queue.some((w) => same(w, ref))) {
      // Ended while waiting (cancelled, say): it changed nothing, and must never be granted the lock.
      r.queue = r.queue.filter((w) => !same(w, ref));
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

  /** Why a forced unlock is refused: the lock is no longer held by the holder the operator was shown. */
  private changedHands({ expected }: Pick<ForceUnlockInput, 'expected'>): ApplicationFailure | undefined {
    const holder = this.r.holder;
    if (!this.durable || !expected || !holder) return undefined;
    if (holder.workflowId === expected.workflowId && holder.lineage === expected.lineage) return undefined;
    return ApplicationFailure.nonRetryable(
      `the lock changed hands: it is now held by ${describeHolder(holder)}, not ${expected.workflowId}. ` +
        'Nothing was released. Check it with `maint status`, and unlock again only if that operation is stuck too.',
      ErrorType.EnvironmentBusy,
    );
  }

  private async forceUnlock({ by, reason, expected }: ForceUnlockInput) {
    const changed = this.changedHands({ expected });
    if (changed) throw changed;
    const previous = this.r.holder;
    if (!previous) return {};
    const at = now();
    this.record({
      operationId: previous.workflowId,
      runId: previous.runId,
      environment: this.r.environment,
      action: 'unlock',
      requestedBy: by,
      reason: reason ?? '',
      startedAt: at,
      finishedAt: at,
      result: 'Released',
      detail: `lock released by force; it was held by ${describeHolder(previous)}`,
      decisions: [],
    });
    // Whatever the holder was changing is unverified now.
    if (this.durable && UNSETTLED.includes(this.r.state)) this.setState('Failed');
    await this.handOver();
    this.publish();
    return { previous };
  }

  /**
   * Releases the lock of a holder that has closed (terminated, timed out) with an entry that says so.
   * The environment is Failed then: nobody knows what the holder left it in until an operation verifies it.
   */
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
    if (this.durable || UNSETTLED.includes(this.r.state)) this.setState('Failed');
    await this.handOver();
    this.publish();
    return holder;
  }

  private async isAlive(holder: LockHolder): Promise<boolean> {
    return (await this.check(holder)).alive;
  }

  private async check(holder: OperationRef): Promise<{ alive: boolean; status: string; runId?: string }> {
    try {
      return await this.act.checkHolder(holder);
    } catch (err) {
      // Unknown is not closed: keep the lock rather than risk two operations at once.
      log.warn('Could not check the lock holder', { holder, error: (err as Error).message });
      return { alive: true, status: 'unknown' };
    }
  }

  /** The lock is free: the next waiter that still runs gets it, is told so, and its state is the environment's. */
  private async handOver(): Promise<void> {
    const r = this.r;
    r.holder = undefined;
    r.sharers = [];
    while (r.queue.length > 0) {
      const { state, ...next } = { ...r.queue.shift()!, since: now() };
      r.holder = next;
      if (await this.grant(next)) {
        if (this.durable && state) this.setState(state);
        return;
      }
      r.holder = undefined;
    }
  }

  /** Tells a waiter it holds the lock; a waiter reset from the Web UI is told in its new run (same lineage). */
  private async grant(next: LockHolder): Promise<boolean> {
    const signal = (runId?: string) =>
      getExternalWorkflowHandle(next.workflowId, runId).signal(lockGrantedSignal, {
        environment: this.r.environment,
        holder: next,
      });
    try {
      await signal(next.runId);
      return true;
    } catch (err) {
      log.warn('A queued operation is gone; serving the next', { next, error: (err as Error).message });
    }
    if (!this.durable) return false;
    const latest = await this.check(next);
    if (!latest.alive || !latest.runId || latest.runId === next.runId) return false;
    next.runId = latest.runId;
    try {
      await signal(latest.runId);
      return true;
    } catch {
      return false;
    }
  }

  /** Adds an entry once per operation; keeps the newest `history.keep`, within LIMITS.historyBytes. */
  private record(entry: HistoryEntry): boolean {
    const r = this.r;
    const key = entryKey(entry);
    if (key && r.history.some((e) => entryKey(e) === key)) return false;
    r.history.push(entry);
    this.historyBytes += entryBytes(entry);
    this.trim();
    return true;
  }

  /** Drops the oldest entries past `history.keep` or LIMITS.historyBytes, counting them in `dropped`. */
  private trim(): void {
    const r = this.r;
    const keep = this.settings!.environment.historyKeep;
    while (r.history.length > keep || (this.historyBytes > LIMITS.historyBytes && r.history.length > 1)) {
      this.historyBytes -= entryBytes(r.history.shift()!);
      r.dropped++;
    }
  }

  private holderOf(req: LockRequest): LockHolder {
    const { workflowId, runId, lineage, action, requestedBy } = req;
    return { workflowId, runId, lineage, action, requestedBy, since: now() };
  }

  private setState(state: EnvironmentState): void {
    this.r.state = state;
    // Out of maintenance (or on the way in by another operation): the watch of the plain enable ends.
    if (state !== 'InMaintenance') this.r.maintenance = undefined;
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
    const overdue = r.maintenance?.overdueSince
      ? [
          `**Overdue**: in maintenance since ${r.maintenance.since} (enable ${r.maintenance.operationId} by ${r.maintenance.requestedBy}), longer than policies.maximumInMaintenance; autoDisable: ${r.maintenance.autoDisable}`,
        ]
      : [];
    const queue = r.queue.map((w, i) => `${i + 1}. ${describeHolder(w)}`);
    const recent = newestFirst(r.history, 10).map(
      (e) =>
        `- ${e.finishedAt.slice(0, 16).replace('T', ' ')} **${e.action}** ${e.result} (${e.requestedBy}) ${e.operationId}`,
    );
    setCurrentDetails(
      [
        `**${r.environment}**: ${r.state}`,
        ...(this.waiting ? [`**Waiting**: ${this.waiting}`] : []),
        ...overdue,
        `Servicing lock: ${lock}`,
        ...(queue.length > 0 ? ['Waiting:', ...queue] : []),
        `Last operations (${r.history.length + r.dropped} in all; \`maint history ${r.environment}\`):`,
        ...(recent.length > 0 ? recent : ['- none yet']),
      ].join('\n\n'),
    );
  }
}

/** An entry's share of the record's bytes (with its separator). */
const entryBytes = (e: HistoryEntry) => jsonBytes(e) + 1;

/** By start time, as before: a window lists after its child operations, which it started. */
function newestFirst(history: HistoryEntry[], limit: number): HistoryEntry[] {
  return [...history].sort((a, b) => b.startedAt.localeCompare(a.startedAt)).slice(0, limit);
}

function describeHolder(h: LockHolder): string {
  return `${h.workflowId} (${h.action} requested by ${h.requestedBy} since ${h.since})`;
}
