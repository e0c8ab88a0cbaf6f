import type { Client } from '@temporalio/client';
import { EnvironmentEntities } from '../../client/environment-entity';
import type { HistoryEntry, LockHolder } from '../../contract/environment';
import type { EnvironmentState } from '../../contract/operation';
import type { TestEnvironment } from './environment';

export interface EntityProbe {
  /** Who holds the servicing lock now. */
  holder(): Promise<LockHolder | undefined>;
  /** The environment's state, as the entity keeps it. */
  state(): Promise<EnvironmentState | undefined>;
  /** The environment history, newest first. */
  history(limit?: number): Promise<HistoryEntry[]>;
}

/** Reads the environment entity workflow, as `maint status` and `maint history` do. */
export function entityOf(client: Client, env: TestEnvironment): EntityProbe {
  const entities = new EnvironmentEntities(client, env.config.temporal.taskQueue);
  return {
    holder: async () => (await entities.view(env.name))?.holder,
    state: async () => (await entities.view(env.name))?.state,
    history: (limit = 500) => entities.history(env.name, limit),
  };
}
