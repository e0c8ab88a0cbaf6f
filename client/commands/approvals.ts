import type { Command } from 'commander';
import { APPROVAL_HELP, type ApprovalKind } from '../../contract/approval';
import { statusQuery, type OperationStatus } from '../../contract/operation';
import { answerCommand, followOperation } from './shared';

/** Commands that answer an operation waiting for approval on a protected environment: approve, reject. */

export function approvalCommand(program: Command, kind: ApprovalKind): void {
  const text = {
    description: `Answer an operation waiting for approval on a protected environment: ${APPROVAL_HELP[kind]}`,
    target: 'an environment (its operation waiting for approval) or a workflow ID',
    by: 'who answers (default: your user name); not the requester, to approve',
  };
  answerCommand(program, kind, text, async (handle, json) => {
    if (kind === 'reject') return followOperation(handle, { json, expected: 'Rejected' });
    // An approved window is followed until it is open, as `maint window` does; one booked ahead, until
    // the approval is recorded (it opens at its time, which may be weeks away).
    const isWindow = (await handle.query(statusQuery)).action === 'window';
    const until = isWindow
      ? (s: OperationStatus) => !!s.window?.endsAt || (!!s.booking?.waiting && !s.approval?.awaiting)
      : undefined;
    return followOperation(handle, { json, until });
  });
}
