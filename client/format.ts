import { STEP_TITLES, type OperationStatus, type StepRecord } from '../contract/operation';
import type { EnvironmentStatus } from './operations';

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
  return `  ${MARK[s.status]} ${s.detail ? `${STEP_TITLES[s.name].padEnd(46)} ${s.detail}` : STEP_TITLES[s.name]}`;
}

/** One line for a progress change while an operation runs. */
export function formatProgress(s: OperationStatus): string {
  const current = s.steps.find((x) => x.name === s.step);
  return `${progressBar(s.progress)}  ${s.state.padEnd(20)} ${current ? `${MARK[current.status]} ${STEP_TITLES[current.name]}` : ''}`;
}

export function formatStatus(st: EnvironmentStatus): string {
  const lines = [`${st.environment}: ${st.state}`];
  const op = st.operation;
  if (!op) return [...lines, '  no operation has run on this environment yet'].join('\n');
  const s = op.status;
  lines.push(`  last operation: ${op.workflowId} (${op.workflowType}, ${op.execution.toLowerCase()})`);
  if (s) {
    lines.push(`  requested by ${s.requestedBy} at ${s.startedAt}${s.reason ? ` — ${s.reason}` : ''}`);
    lines.push(`  ${progressBar(s.progress)}${s.outcome ? `  ${s.outcome}` : ''}`);
    lines.push(...s.steps.map(formatStep));
    if (s.failure) lines.push(`  failed at ${s.failure.step}: ${s.failure.message}`);
  } else if (op.error) {
    lines.push(`  ${op.error}`);
  }
  return lines.join('\n');
}
