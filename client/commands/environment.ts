import fs from 'node:fs';
import readline from 'node:readline/promises';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Option, type Command } from 'commander';
import { forceUnlockUpdate } from '../../contract/environment';
import { ENVIRONMENT_STATES, logQuery, statusQuery } from '../../contract/operation';
import { rolloutStatusQuery } from '../../contract/rollout';
import { formatHistory, formatHolder, formatList, formatLog, formatRollout, formatStatus } from '../format';
import {
  ExitCode,
  OperatorError,
  entitiesOf,
  environmentStatus,
  readinessCode,
  resolveOperation,
} from '../operations';
import { isRollout } from '../rollouts';
import { importFirstReleaseHistory } from '../upgrade';
import { rolloutStatusCode } from './rollouts';
import { environmentArg, err, me, out, withClient } from './shared';

/** Commands that read or repair an environment: status, list, logs, history, unlock. */

export function statusCommand(program: Command): void {
  program
    .command('status')
    .description(
      'The state of an environment and its latest operation, with the decisions it waits for; exits 0 only when it is Deployed and free. A rollout: its table',
    )
    .argument('<target>', 'an environment from temporal.yaml, or a rollout or operation workflow ID')
    .option('--json', 'print JSON instead of text')
    .action(async (target: string, opts: { json?: boolean }) => {
      process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
        let environment = target;
        let operation: { workflowId: string; runId?: string } | undefined;
        if (!c.environments[target]) {
          const handle = await resolveOperation(client, c, target);
          if (await isRollout(handle)) {
            const s = await handle.query(rolloutStatusQuery);
            out(opts.json ? JSON.stringify(s, null, 2) : formatRollout(s));
            return rolloutStatusCode(s);
          }
          // One operation by its workflow ID (a rollout's child, say), shown with its environment.
          environment = (await handle.query(statusQuery)).environment;
          operation = { workflowId: handle.workflowId };
        }
        const status = await environmentStatus(client, c, environment, operation);
        out(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
        return readinessCode(status);
      });
    });
}

export function listCommand(program: Command): void {
  program
    .command('list')
    .description('Every environment with its state and current operation')
    .addOption(
      new Option('-s, --state <state>', 'only environments in this state').choices([
        ...ENVIRONMENT_STATES,
        'AwaitingApproval',
      ]),
    )
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { state?: string; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const rows = await Promise.all(
          Object.keys(c.environments).map((e) => environmentStatus(client, c, e)),
        );
        const shown = rows.filter((r) => !opts.state || r.state === opts.state);
        out(opts.json ? JSON.stringify(shown, null, 2) : formatList(shown));
      });
    });
}

export function logsCommand(program: Command): void {
  program
    .command('logs')
    .description('The operation log: every step, attempt, error and decision')
    .argument('<target>', 'an environment (its latest operation) or a workflow ID')
    .option('-o, --output <file>', 'write to a file instead of the terminal')
    .option('--json', 'JSON instead of text')
    .action(async (target: string, opts: { output?: string; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target);
        const log = await handle.query(logQuery);
        const text = opts.json ? JSON.stringify(log, null, 2) : formatLog(log);
        if (!opts.output) return out(text);
        fs.writeFileSync(opts.output, `${text}\n`);
        err(`Wrote ${log.entries.length} log entries of ${handle.workflowId} to ${opts.output}.`);
      });
    });
}

export function historyCommand(program: Command): void {
  program
    .command('history')
    .description('The environment history: one entry per operation, newest first')
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .option(
      '-n, --limit <count>',
      'how many entries',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new OperatorError(`--limit takes a whole number above 0, not "${v}".`, ExitCode.InvalidInput);
        return n;
      },
      50,
    )
    .option('--json', 'print JSON instead of text')
    .action(async (environment: string, opts: { limit: number; json?: boolean }) => {
      await withClient(program, environment, async ({ config: c, client }) => {
        const entries = await entitiesOf(client, c).history(environment, opts.limit);
        out(opts.json ? JSON.stringify(entries, null, 2) : formatHistory(environment, entries));
      });
    });
}

export function unlockCommand(program: Command): void {
  program
    .command('unlock')
    .description("Release an environment's servicing lock by force (when its holder cannot release it)")
    .argument('<environment>', 'environment name from temporal.yaml', environmentArg)
    .requiredOption('--force', 'required: this overrides the one-operation-per-environment guard')
    .option('-y, --yes', 'do not ask for confirmation (for scripts)')
    .option('-r, --reason <text>', 'why (kept in the environment history)', '')
    .option('-u, --by <name>', 'who (default: your user name)', me())
    .action(async (environment: string, opts: { yes?: boolean; reason: string; by: string }) => {
      await withClient(program, environment, async ({ config: c, client }) => {
        const entities = entitiesOf(client, c);
        const holder = (await entities.view(environment))?.holder;
        if (!holder) return out(`${environment} is not locked.`);
        err(`${environment} is locked by ${formatHolder(holder)}.`);
        if (!opts.yes && !(await confirm(`Type "${environment}" to release the lock: `, environment))) {
          throw new OperatorError(
            'Not unlocked: confirmation missing. Type the environment name when asked, or add --yes.',
            ExitCode.InvalidInput,
          );
        }
        // The holder shown: if the lock changed hands while the operator read the prompt, nothing is released.
        const { previous } = await entities
          .update(environment, forceUnlockUpdate, {
            by: opts.by,
            reason: opts.reason,
            expected: { workflowId: holder.workflowId, lineage: holder.lineage },
          })
          .catch((e: unknown) => {
            if (!(e instanceof WorkflowUpdateFailedError)) throw e;
            throw new OperatorError(`Not unlocked: ${e.cause?.message ?? e.message}`, ExitCode.Conflict);
          });
        out(
          previous
            ? `Released the lock of ${environment} (held by ${previous.workflowId}); recorded in its history.`
            : `${environment} was released meanwhile; nothing to do.`,
        );
      });
    });
}

export function upgradeCommand(program: Command): void {
  program
    .command('upgrade')
    .description(
      'Upgrading from the first release: move its SQLite history and held locks into Temporal (once; again is harmless)',
    )
    .option('--from <file>', "the first release's history file (default: history.database in temporal.yaml)")
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { from?: string; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const file = opts.from ?? c.history.database;
        if (!file) {
          throw new OperatorError(
            "Name the first release's history file: --from data/history.db, or history.database in temporal.yaml.",
            ExitCode.InvalidInput,
          );
        }
        const lines = await importFirstReleaseHistory(client, c, file);
        if (opts.json) return out(JSON.stringify(lines, null, 2));
        for (const l of lines) {
          const lock = l.holder ? `locked by ${formatHolder(l.holder)}` : 'not locked';
          out(`${l.environment}: ${l.imported} of ${l.entries} history entries imported; ${lock}.`);
        }
      });
    });
}

async function confirm(question: string, expected: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim() === expected;
  } finally {
    rl.close();
  }
}
