/** Fault switches for tests and demos; each makes something really fail rather than pretend to. */
import type { FleetDatabase } from './database';
import type { Faults, FaultsPatch } from './schemas';

const withoutZeros = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

type LockSwitches = Pick<Faults, 'databaseUnreachable' | 'databaseWritesBlocked'>;
const NO_LOCK: LockSwitches = { databaseUnreachable: false, databaseWritesBlocked: false };

/** The transaction the supervisor's connection holds open for these switches; the exclusive lock wins. */
const lockMode = (locks: LockSwitches): 'EXCLUSIVE' | 'IMMEDIATE' | undefined =>
  locks.databaseUnreachable ? 'EXCLUSIVE' : locks.databaseWritesBlocked ? 'IMMEDIATE' : undefined;

export class FaultSwitches {
  private startFailures: Record<string, number> = {};
  private startDelayMs: Record<string, number> = {};
  private signInFailures: Record<string, number> = {};
  /** Always matches the transaction open on `db`: lockMode(locks) is the lock held. */
  private locks: LockSwitches = NO_LOCK;

  /** `db` is the supervisor's connection; the database switches are a transaction held open on it. */
  constructor(private readonly db: FleetDatabase) {}

  get current(): Faults {
    return {
      startFailures: { ...this.startFailures },
      startDelayMs: { ...this.startDelayMs },
      signInFailures: { ...this.signInFailures },
      ...this.locks,
    };
  }

  /**
   * Merges per instance; a count of 0 removes that instance's switch. The database lock changes first:
   * when it cannot be taken (SQLITE_BUSY) nothing else changes and the switches say what is held.
   */
  apply(patch: FaultsPatch): Faults {
    this.setLocks({
      databaseUnreachable: patch.databaseUnreachable ?? this.locks.databaseUnreachable,
      databaseWritesBlocked: patch.databaseWritesBlocked ?? this.locks.databaseWritesBlocked,
    });
    this.startFailures = withoutZeros({ ...this.startFailures, ...patch.startFailures });
    this.startDelayMs = withoutZeros({ ...this.startDelayMs, ...patch.startDelayMs });
    this.signInFailures = withoutZeros({ ...this.signInFailures, ...patch.signInFailures });
    return this.current;
  }

  clear(): Faults {
    this.startFailures = {};
    this.startDelayMs = {};
    this.signInFailures = {};
    this.setLocks(NO_LOCK);
    return this.current;
  }

  /** Consumes one injected failure: the reason the next start of `id` must fail with, if any. */
  takeStartFailure(id: string): string | undefined {
    const left = this.take('startFailures', id);
    return left === undefined ? undefined : `injected start failure (${left} left)`;
  }

  /** Consumes one injected failure: the reason the next sign-in on `id` must fail with, if any. */
  takeSignInFailure(id: string): string | undefined {
    const left = this.take('signInFailures', id);
    return left === undefined ? undefined : `injected fault (${left} left)`;
  }

  startDelay(id: string): number {
    return this.startDelayMs[id] ?? 0;
  }

  /** Decrements the count of `id`; how many are left, or undefined when there was none. */
  private take(kind: 'startFailures' | 'signInFailures', id: string): number | undefined {
    const left = this[kind][id];
    if (!left) return undefined;
    this[kind] = withoutZeros({ ...this[kind], [id]: left - 1 });
    return left - 1;
  }

  /**
   * The database is in rollback-journal mode, so an EXCLUSIVE lock (databaseUnreachable) blocks readers
   * as well as writers, and the RESERVED lock of BEGIN IMMEDIATE (databaseWritesBlocked) blocks only
   * writers: the AOS and the orchestrator get real SQLITE_BUSY errors. The supervisor's own bookkeeping
   * runs inside this transaction, on the same connection, and is committed when the lock is released
   * or changes mode (SQLite cannot change a transaction's lock, so that is COMMIT and BEGIN again).
   */
  private setLocks(next: LockSwitches): void {
    const held = lockMode(this.locks);
    const wanted = lockMode(next);
    if (held !== wanted) {
      if (held) this.db.exec('COMMIT');
      this.locks = NO_LOCK;
      if (wanted) this.db.exec(`BEGIN ${wanted}`);
    }
    this.locks = { ...next };
  }
}
