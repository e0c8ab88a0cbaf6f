import {
  WithStartWorkflowOperation,
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
 * No run of the entity takes the update: it has never run, or its run closed (it continued as new
 * while the update waited, or was terminated).
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

  /**
   * An update to the running entity; where none runs, the same update with its start (update-with-start:
   * one atomic call). The plain update comes first because it measured a few ms faster a call than
   * update-with-start (`npm run bench`), and the entity runs for every call but the first. A run that
   * closed (terminated, failed) is not replaced blindly: its successor is told which run it replaces,
   * and recovers that run's lock and state before it answers.
   */
  async update<R, A>(environment: string, update: UpdateDefinition<R, [A]>, arg: A): Promise<R> {
    const withStart = (previousRunId?: string, reuse?: 'REJECT_DUPLICATE') =>
      this.client.workflow.executeUpdateWithStart(update, {
        args: [arg],
        startWorkflowOperation: this.startOperation(environment, previousRunId, reuse),
      });
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.handle(environment).executeUpdate(update, { args: [arg] });
      } catch (err) {
        if (!isGone(err)) throw err;
      }
      try {
        return await withStart(undefined, 'REJECT_DUPLICATE');
      } catch (err) {
        // Its run closed while the update waited (it continued as new): the next run takes it.
        if (attempt < 3 && isGone(err)) continue;
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        return withStart(await this.closedRun(environment));
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

  /**
   * Starts the entity where none runs. `REJECT_DUPLICATE` refuses where a run of it has closed, so that
   * its successor is started knowing which run it replaces.
   */
  private startOperation(environment: string, previousRunId?: string, reuse?: 'REJECT_DUPLICATE') {
    const input: EnvironmentEntityInput = { environment, ...(previousRunId && { previousRunId }) };
    return new WithStartWorkflowOperation(ENVIRONMENT_WORKFLOW_TYPE, {
      workflowId: environmentWorkflowId(environment),
      taskQueue: this.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      ...(reuse && { workflowIdReusePolicy: reuse }),
      staticSummary: `Environment ${environment}: servicing lock, state and history`,
    });
  }
}
