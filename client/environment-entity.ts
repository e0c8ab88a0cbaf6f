import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import {
  ENVIRONMENT_WORKFLOW_TYPE,
  environmentQuery,
  environmentWorkflowId,
  historyQuery,
  type EnvironmentEntityInput,
  type EnvironmentView,
  type HistoryEntry,
} from '../contract/environment';

/**
 * The entity has not started yet, or its run has closed (terminated by hand, failed): start it and
 * try again. A new run replacing a closed one is told which, and takes over its lock and state.
 */
function isGone(err: unknown): boolean {
  return (
    err instanceof WorkflowNotFoundError ||
    (err instanceof Error && /workflow execution already completed/i.test(err.message))
  );
}

/**
 * The environment entity workflows (`environment-<name>`), as the worker's activities and the CLI
 * reach them: updates start the entity on demand; queries answer undefined for one never started.
 */
export class EnvironmentEntities {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  handle(environment: string): WorkflowHandle {
    return this.client.workflow.getHandle(environmentWorkflowId(environment));
  }

  async update<R, A>(environment: string, update: UpdateDefinition<R, [A]>, arg: A): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.handle(environment).executeUpdate(update, { args: [arg] });
      } catch (err) {
        if (attempt >= 3 || !isGone(err)) throw err;
        await this.start(environment, await this.closedRun(environment));
      }
    }
  }

  /** The run that closed (terminated, failed), which a new one replaces: it recovers that run's lock and state. */
  private async closedRun(environment: string): Promise<string | undefined> {
    try {
      const latest = await this.handle(environment).describe();
      return latest.status.name === 'RUNNING' ? undefined : latest.runId;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  async view(environment: string): Promise<EnvironmentView | undefined> {
    return this.queryOrUndefined(() => this.handle(environment).query(environmentQuery));
  }

  async history(environment: string, limit: number): Promise<HistoryEntry[]> {
    return (await this.queryOrUndefined(() => this.handle(environment).query(historyQuery, { limit }))) ?? [];
  }

  private async queryOrUndefined<T>(query: () => Promise<T>): Promise<T | undefined> {
    try {
      return await query();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  private async start(environment: string, previousRunId?: string): Promise<void> {
    const input: EnvironmentEntityInput = { environment, ...(previousRunId && { previousRunId }) };
    try {
      await this.client.workflow.start(ENVIRONMENT_WORKFLOW_TYPE, {
        workflowId: environmentWorkflowId(environment),
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `Environment ${environment}: servicing lock, state and history`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
}
