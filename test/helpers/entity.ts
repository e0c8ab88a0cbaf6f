import type { Client } from '@temporalio/client';
import { EnvironmentEntities } from '../../client/environment-entity';
import type { HistoryEntry, LockHolder } from '../../contract/environment';
import type { TestEnvironment } from './environment';

export interface EntityProbe {
  /** Who holds the servicing lock now. */
  holder(): Promise<LockHolder | undefined>;
  /** The environment history, newest first. */
  history(limit?: number): Promise<HistoryEntry[]>;
}

/** Reads the environment entity workflow, as `maint status` and `maint history` do. */
export function entityOf(client: Client, env: TestEnvironment): EntityProbe {
  const entities = new EnvironmentEntities(client, env.config.temporal.taskQueue);
  return {
    holder: async () => (await entities.view(env.name))?.holder,
    history: (limit = 500) => entities.history(env.name, limit),
  };
}
