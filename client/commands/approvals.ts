import type { Command } from 'commander';
import { APPROVAL_HELP, type ApprovalKind } from '../../contract/approval';
import { statusQuery, type OperationStatus } from '../../contract/operation';
import { ExitCode, decide, resolveOperation } from '../operations';
import { err, followOperation, me, out, withClient } from './shared';

/** Commands that answer an operation waiting for approval on a protected environment: approve, reject. */

export function approvalCommand(program: Command, kind: ApprovalKind): void {
  program
    .command(kind)
    .description(
      `Answer an operation waiting for approval on a protected environment: ${APPROVAL_HELP[kind]}`,
    )
    .argument('<target>', 'an environment (its operation waiting for approval) or a workflow ID')
    .option('-r, --reason <text>', 'why (kept in the log and the history)', '')
    .option('-u, --by <name>', 'who answers (default: your user name); not the requester, to approve', me())
    .option('--no-wait', 'return once the answer is accepted')
    .option('--json', 'print JSON instead of text')
    .action(async (target: string, opts: { reason: string; by: string; wait: boolean; json?: boolean }) => {
      process.exitCode = await withClient(program, undefined, async ({ config: c, client }) => {
        const handle = await resolveOperation(client, c, target);
        const ack = await decide(handle, kind, { by: opts.by, reason: opts.reason });
        const print = opts.json ? err : out;
        print(`${handle.workflowId}: ${ack.message}.`);
        if (!opts.wait) {
          if (opts.json) out(JSON.stringify(ack, null, 2));
          return ExitCode.Ok;
        }
        if (kind === 'reject') return followOperation(handle, { json: !!opts.json, expected: 'Rejected' });
        // An approved window is followed until it is open, as `maint window` does.
        const isWindow = (await handle.query(statusQuery)).action === 'window';
        const until = isWindow ? (s: OperationStatus) => !!s.window?.endsAt : undefined;
        return followOperation(handle, { json: !!opts.json, until });
      });
    });
}
