/** Fault switches for tests and demos; each makes something really fail rather than pretend to. */
import type { FleetDatabase } from './database';
import type { Faults, FaultsPatch } from './schemas';

const withoutZeros = (counts: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));

export class FaultSwitches {
  private startFailures: Record<string, number> = {};
  private startDelayMs: Record<string, number> = {};

  /** `db` is the supervisor's connection; "database unreachable" is an exclusive transaction held open on it. */
  constructor(private readonly db: FleetDatabase) {}

  get current(): Faults {
    return {
      startFailures: { ...this.startFailures },
      startDelayMs: { ...this.startDelayMs },
      databaseUnreachable: this.db.inTransaction,
    };
  }

  /** Merges per instance; a count of 0 removes that instance's switch. */
  apply(patch: FaultsPatch): Faults {
    this.startFailures = withoutZeros({ ...this.startFailures, ...patch.startFailures });
    this.startDelayMs = withoutZeros({ ...this.startDelayMs, ...patch.startDelayMs });
    if (patch.databaseUnreachable !== undefined) this.setDatabaseUnreachable(patch.databaseUnreachable);
    return this.current;
  }

  clear(): Faults {
    this.startFailures = {};
    this.startDelayMs = {};
    this.setDatabaseUnreachable(false);
    return this.current;
  }

  /** Consumes one injected failure: the reason the next start of `id` must fail with, if any. */
  takeStartFailure(id: string): string | undefined {
    const left = this.startFailures[id];
    if (!left) return undefined;
    this.startFailures = withoutZeros({ ...this.startFailures, [id]: left - 1 });
    return `injected start failure (${left - 1} left)`;
  }

  startDelay(id: string): number {
    return this.startDelayMs[id] ?? 0;
  }

  /**
   * In rollback-journal mode an EXCLUSIVE lock blocks readers as well as writers, so the AOS and the
   * orchestrator get real SQLITE_BUSY errors. The supervisor's own bookkeeping runs inside this
   * transaction and is committed when the switch goes off.
   */
  private setDatabaseUnreachable(on: boolean): void {
    if (on && !this.db.inTransaction) this.db.exec('BEGIN EXCLUSIVE');
    if (!on && this.db.inTransaction) this.db.exec('COMMIT');
  }
}
