import type { HistoryEntry, LockHolder } from '../contract/environment';
import {
  DECISIONS,
  DECISION_HELP,
  STEP_TITLES,
  describeDecision,
  type LogEntry,
  type OperationLog,
  type OperationStatus,
  type StepRecord,
} from '../contract/operation';
import { APPROVAL_HELP, type RequesterProof } from '../contract/approval';
import { formatImpact } from '../contract/impact';
import { samePerson } from '../contract/signing';
import type { RolloutResult, RolloutRow, RolloutStatus } from '../contract/rollout';
import { formatDuration } from '../contract/window';
import type { EnvironmentStatus } from './operations';
import type { ScheduleRow } from './schedules';

/** Terminal escape sequences: CSI (colours, cursor moves, erasing), OSC (window titles, links) and the like. */
const SEQUENCE =
  // eslint-disable-next-line no-control-regex -- control characters are what it finds
  /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?/g;
/** Control characters but tab and line feed, and the bidirectional overrides that reorder what is shown. */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAK = /[ \t]*(?:\r\n|[\n\r\u2028\u2029])\s*/g;

/**
 * Text from outside (command output quoted in errors, reasons, names, inputs, workflow IDs) as a
 * terminal may show it: escape sequences and control characters removed, so that it cannot recolour,
 * move the cursor, rewrite lines, retitle the window or hide what is around it. Line breaks become
 * " | ", so that it cannot add lines of its own, unless `lines` (what the CLI prints as a whole).
 */
export function terminalText(text: string, { lines = false } = {}): string {
  const plain = text.replace(SEQUENCE, '');
  return (lines ? plain : plain.replace(LINE_BREAK, ' | ').replace(/\t/g, ' ')).replace(CONTROL, '');
}
const t = (text: string) => terminalText(text);

const MARK: Record<StepRecord['status'], string> = {
  pending: '○',
  running: '▶',
  succeeded: '✓',
  skipped: '–',
  failed: '✗',
};

export function progressBar(percent: number, width = 20): string {
  const filled = Math.round((percent / 100) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${String(percent).padStart(3)}%`;
}

export function formatStep(s: StepRecord): string {
  const title = STEP_TITLES[s.name];
  return `  ${MARK[s.status]} ${s.detail ? `${title.padEnd(48)} ${s.detail}` : title}`;
}

/** One line for a progress change while an operation runs. */
export function formatProgress(s: OperationStatus): string {
  const current = s.steps.find((x) => x.name === s.step);
  const what = current ? `${MARK[current.status]} ${STEP_TITLES[current.name]}` : '';
  return `${progressBar(s.progress)}  ${s.state.padEnd(20)} ${what}`;
}

/** What failed and what the operator can do about it, with the commands to type (on `target`). */
export function formatDecisionNeeded(s: OperationStatus, target = s.environment): string {
  const lines = [`${s.environment}: ${t(s.operationId)} needs a decision.`];
  if (s.failure)
    lines.push(`  failed at: ${STEP_TITLES[s.failure.step]}`, `  error: ${t(s.failure.error.message)}`);
  if (s.decisionDeadline)
    lines.push(`  decide by ${s.decisionDeadline}, or it ends Failed with the environment as it is`);
  for (const d of s.availableDecisions) {
    lines.push(`  maint ${d.padEnd(8)} ${target} --reason "..."   ${DECISION_HELP[d]}`);
  }
  return lines.join('\n');
}

/**
 * Why a rollout cannot go on without a decision, then each environment that waits for one: its
 * operation, its failure and the commands to decide on it. `waiting` is the operation that waits, when
 * it answered; otherwise the row says what the rollout knows.
 */
export function formatRolloutDecisions(
  s: RolloutStatus,
  members: { row: RolloutRow; waiting?: OperationStatus }[],
): string {
  const n = members.length;
  const why =
    s.state === 'Paused'
      ? `it is paused (\`maint resume ${s.operationId}\` starts new environments again)`
      : s.stopped
        ? `no new environment starts: ${s.stopped}`
        : `all ${s.maxConcurrency} of its slots (maxConcurrency) are taken by environments that wait`;
  const lines = [
    `${s.operationId} cannot go on without a decision: ${n === 1 ? '1 environment waits' : `${n} environments wait`} ` +
      `for one, nothing else runs, and nothing new starts (${why}).`,
  ];
  for (const { row, waiting } of members) {
    if (waiting) lines.push(formatDecisionNeeded(waiting, waiting.operationId));
    else
      lines.push(
        `${row.environment}: ${row.workflowId} needs a decision.`,
        ...(row.error ? [`  error: ${row.error.message}`] : []),
        ...DECISIONS.map(
          (d) => `  maint ${d.padEnd(8)} ${row.workflowId} --reason "..."   ${DECISION_HELP[d]}`,
        ),
      );
  }
  lines.push(
    `The rollout goes on once ${n === 1 ? 'it is' : 'they are'} decided; \`maint status ${s.operationId}\` shows where it stands.`,
  );
  return lines.join('\n');
}

/** Who may answer a request on a protected environment, until when, and the commands to type. */
export function formatApprovalNeeded(s: OperationStatus): string {
  const head = `${s.environment} is protected: ${t(s.operationId)} waits for approval until ${s.approval?.deadline} (then it ends Rejected, nothing changed).`;
  const asked = `  requested by ${t(s.requester?.person ?? s.requestedBy)}${s.reason ? ` — ${t(s.reason)}` : ''}`;
  // Who approving it would affect now (the impact preview the request carries).
  const impact = s.approval?.impact ? formatImpact(s.approval.impact).map((l) => `  ${t(l)}`) : [];
  if (!s.requester)
    return [
      head,
      ...impact,
      `${asked}; anyone else may approve:`,
      `  maint approve ${s.environment} --by <name> --reason "..."   ${APPROVAL_HELP.approve}`,
      `  maint reject  ${s.environment} --by <name> --reason "..."   ${APPROVAL_HELP.reject}`,
      '  (Web UI: signal approve or reject with {"by": "your.name", "reason": "..."})',
    ].join('\n');
  const others = (s.approval?.approvers ?? []).filter((a) => !samePerson(a, s.requester!.person));
  return [
    head,
    ...impact,
    `${asked}; ${others.length ? `one of ${t(others.join(', '))}` : 'an approver other than the requester'} may approve, signing with their SSH key:`,
    `  maint approve ${s.environment} --reason "..."   ${APPROVAL_HELP.approve}`,
    `  maint reject  ${s.environment} --reason "..."   ${APPROVAL_HELP.reject}`,
    `  (Web UI: signal approve or reject with the input \`maint approve ${t(s.operationId)} --print-signal\` prints)`,
  ].join('\n');
}

/** "window open until 14:00 UTC (1h 5m left)", or undefined when the operation is not a window. */
export function formatWindow(s: OperationStatus, now = Date.now()): string | undefined {
  const w = s.window;
  if (!w) return undefined;
  if (w.closedAt)
    return `  window closed at ${w.closedAt}${w.endedEarly ? ` (ended early by ${t(w.endedEarly.by)})` : ''}`;
  if (!w.endsAt && s.booking?.waiting) return `  booked: opens at ${s.booking.startsAt}`;
  if (!w.endsAt) return `  window not open yet (${s.step ?? 'starting'})`;
  const left = Math.max(0, Date.parse(w.endsAt) - now);
  const after = w.keepsMaintenanceOn ? '; maintenance mode stays on after it, as the window found it' : '';
  return `  window open until ${w.endsAt} (${formatDuration(left)} left; at most until ${w.latestEndsAt})${after}`;
}

export function formatStatus(st: EnvironmentStatus): string {
  const lines = [`${st.environment}: ${st.state}`];
  lines.push(`  servicing lock: ${st.lock ? `held by ${formatHolder(st.lock)}` : 'free'}`);
  st.queue.forEach((w, i) => lines.push(`  waiting ${i + 1}: ${formatHolder(w)}`));
  const op = st.operation;
  if (!op) return [...lines, '  no operation has run on this environment yet'].join('\n');
  const s = op.status;
  lines.push(`  operation: ${t(op.workflowId)} (${op.workflowType}, ${op.execution.toLowerCase()})`);
  if (!s) return [...lines, `  ${op.error}`].join('\n');
  lines.push(`  requested by ${t(s.requestedBy)} at ${s.startedAt}${s.reason ? ` — ${t(s.reason)}` : ''}`);
  lines.push(
    `  ${progressBar(s.progress)}${s.result ? `  ${s.result}${s.alreadyInMode ? ' (already in the requested mode)' : ''}` : ''}`,
  );
  lines.push(...s.steps.map(formatStep));
  const window = formatWindow(s);
  if (window) lines.push(window);
  for (const c of s.window?.changes ?? [])
    lines.push(`  key ${c.name}: ${c.from ? 'on' : 'off'} → ${c.to ? 'on' : 'off'}`);
  for (const d of s.decisions)
    lines.push(`  decision: ${t(describeDecision(d))} at ${d.at}${d.reason ? ` — ${t(d.reason)}` : ''}`);
  if (s.requester) lines.push(`  requester proved by ${t(describeRequester(s.requester))}`);
  if (s.approval?.standing) lines.push(`  approved: standing approval of schedule ${s.approval.standing}`);
  else if (s.approval?.verified?.parent)
    lines.push(`  approved: with its window ${s.approval.verified.parent}`);
  if (s.awaitingDecision) lines.push('', formatDecisionNeeded(s));
  else if (s.approval?.awaiting) lines.push('', formatApprovalNeeded(s));
  else if (s.failure && s.result !== 'Succeeded' && s.result !== 'RolledBack') {
    lines.push(`  last failure at ${s.failure.step}: ${t(s.failure.error.message)}`);
  }
  return lines.join('\n');
}

function describeRequester(r: RequesterProof): string {
  switch (r.via) {
    case 'signature':
      return `${r.person}'s signature (key ${r.fingerprint})`;
    case 'schedule':
      return `schedule ${r.source}`;
    case 'parent':
      return `${r.source}, requested by ${r.person}`;
    case 'name':
      return `nothing but the name ${r.person} (given by ${r.source}, of an earlier release)`;
  }
}

function formatEntry(e: LogEntry): string {
  const time = e.at.replace('T', ' ').replace('Z', '');
  const where = [e.step, e.aos].filter(Boolean).join(' ');
  const attempt = e.attempt ? `attempt ${e.attempt} ` : '';
  const took = e.durationMs !== undefined ? ` (${e.durationMs} ms)` : '';
  const outcome = e.kind === 'attempt' ? `${t(e.message)}: ${attempt}${e.outcome}${took}` : t(e.message);
  const error = e.error
    ? `\n${' '.repeat(26)}${e.error.type ? `${t(e.error.type)}: ` : ''}${t(e.error.message)}`
    : '';
  return `${time}  ${e.kind.padEnd(8)} ${where.padEnd(20)} ${outcome}${error}`;
}

export function formatLog(log: OperationLog): string {
  const head = [
    log.action === 'rollout'
      ? `Log of rollout ${t(log.operationId)} (run ${log.runId}) over ${log.environment}`
      : `Operation log of ${t(log.operationId)} (run ${log.runId}): ${log.action} maintenance mode on ${log.environment}`,
  ];
  if (log.dropped > 0) head.push(`(${log.dropped} older entries were dropped to keep the operation small)`);
  return [...head, ...log.entries.map(formatEntry)].join('\n');
}

export function table(header: string[], unsafe: string[][]): string {
  const rows = unsafe.map((r) => r.map(t));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatHistory(environment: string, entries: HistoryEntry[]): string {
  if (entries.length === 0) return `${environment}: no operations recorded yet`;
  return table(
    ['started', 'finished', 'action', 'result', 'requested by', 'reason', 'decisions', 'operation'],
    entries.map((e) => [
      e.startedAt.replace('T', ' ').slice(0, 19),
      e.finishedAt.replace('T', ' ').slice(0, 19),
      e.action,
      e.result,
      e.requestedBy,
      e.reason,
      e.decisions.map(describeDecision).join(', ') || e.detail,
      e.operationId,
    ]),
  );
}

export function formatList(rows: EnvironmentStatus[]): string {
  return table(
    ['environment', 'state', 'step', 'progress', 'operation', 'execution', 'started'],
    rows.map((r) => [
      r.environment,
      r.state +
        (r.operation?.status?.awaitingDecision ? ' (needs a decision)' : '') +
        (r.maintenance?.overdueSince
          ? ` OVERDUE (since ${r.maintenance.since.slice(0, 16).replace('T', ' ')})`
          : ''),
      r.operation?.status?.step ?? '',
      r.operation?.status ? `${r.operation.status.progress}%` : '',
      r.operation?.workflowId ?? '',
      r.operation?.execution.toLowerCase() ?? '',
      r.operation?.startTime.replace('T', ' ').slice(0, 19) ?? '',
    ]),
  );
}

export function formatHolder(h: LockHolder): string {
  return `workflow ${t(h.workflowId)} (run ${h.runId}, ${h.action} requested by ${t(h.requestedBy)} at ${h.since})`;
}

export function formatSchedules(rows: ScheduleRow[]): string {
  if (rows.length === 0)
    return 'No schedules. Declare them under `schedules:` in temporal.yaml and run `maint schedule sync`.';
  return table(
    ['schedule', 'environment', 'state', 'next runs', 'recent windows', 'managed'],
    rows.map((r) => [
      r.id,
      r.environment ?? (r.rollout ? `rollout: ${r.rollout}` : ''),
      r.booked
        ? `booked${r.booked.state === 'Booked' ? '' : ` (${r.booked.state})`}`
        : r.paused
          ? `paused${r.note ? ` (${r.note})` : ''}`
          : 'active',
      r.nextRuns.map((t) => t.replace('T', ' ').slice(0, 16)).join(', '),
      r.recentRuns.map((a) => a.workflowId).join(', '),
      r.managed ? 'yes' : r.installation ? `no (installation ${r.installation})` : 'no',
    ]),
  );
}

/** A rollout's table: one row per environment, then the counts and why new starts stopped. */
export function formatRollout(r: RolloutStatus | RolloutResult): string {
  const rows = table(
    ['environment', 'state', 'result', 'duration', 'operation', 'error'],
    r.environments.map((e: RolloutRow) => [
      e.environment,
      e.state,
      e.result ?? '',
      e.durationMs !== undefined ? formatDuration(e.durationMs) : '',
      e.workflowId ?? '',
      e.error?.message.split('\n')[0] ?? '',
    ]),
  );
  const c = r.counts;
  const head = 'state' in r ? `${r.operationId}: ${r.result ?? r.state}` : `${r.operationId}: ${r.result}`;
  const counts = `${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.notStarted} not started, ${c.inFlight} running of ${c.targets}; ${c.errors} error${c.errors === 1 ? '' : 's'}`;
  const limits = 'maxErrors' in r ? ` (maxErrors ${r.maxErrors}, maxConcurrency ${r.maxConcurrency})` : '';
  const stopped = r.stopped ? `\nNo new environment started: ${r.stopped}` : '';
  const waiting = r.environments
    .filter((e) => e.state === 'AwaitingDecision')
    .map(
      (e) =>
        `\n${e.environment} waits for a decision: maint resume|rollback|abort ${e.workflowId} --reason "..."`,
    )
    .join('');
  return `${head}\n${rows}\n${counts}${limits}${stopped}${waiting}`;
}
