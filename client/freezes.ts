/**
 * Change freezes for operators: what `maint freeze list` shows (read from temporal.yaml, no server
 * needed), the exception an approver signs for one run, and reading it back for a start.
 */
import fs from 'node:fs';
import type { LoadedConfig } from '../config/load';
import { freezePeriods, frozenEnvironments, type FreezeConfig } from '../config/freezes';
import { DAY_MS, formatWall, wallClock } from '../config/zoned-time';
import {
  freezeExceptionMessage,
  freezeExceptionSchema,
  type FreezeException,
  type FreezePeriod,
} from '../contract/freeze';
import { samePerson } from '../contract/signing';
import { formatDuration } from '../contract/window';
import { ExitCode, OperatorError } from './operations';
import { sign, signer, type SigningKey } from './signing';

const invalid = (message: string) => new OperatorError(message, ExitCode.InvalidInput);

/** One declared freeze as `freeze list` shows it: where it applies, and its current or next period. */
export interface FreezeSummary {
  name: string;
  reason: string;
  timezone: string;
  environments: string[];
  tags: string[];
  /** "FREQ=MONTHLY;BYMONTHDAY=-1 from 2026-01-31 18:00, for P2D" or "2026-12-20 00:00 to 2027-01-05 00:00". */
  when: string;
  /** The period in force now, if any. */
  current?: FreezePeriod;
  /** The next period to begin within a year, if any. */
  next?: FreezePeriod;
}

const spaced = (local: string) => local.replace('T', ' ');

/** Every declared freeze, with the period in force at `at` and the next one. */
export function freezeSummaries(config: LoadedConfig, at = Date.now()): FreezeSummary[] {
  return config.freezes.map((f) => {
    const periods = freezePeriods(f, at, at + 366 * DAY_MS);
    const current = periods.find((p) => Date.parse(p.start) <= at);
    return {
      name: f.name,
      reason: f.reason,
      timezone: f.timezone,
      environments: frozenEnvironments(f, config.environments),
      tags: f.tags,
      when: f.rrule
        ? `${f.rrule} from ${spaced(f.start)}, for ${f.duration}`
        : `${spaced(f.start)} to ${spaced(f.end!)}`,
      ...(current && { current }),
      ...(periods.find((p) => Date.parse(p.start) > at) && {
        next: periods.find((p) => Date.parse(p.start) > at),
      }),
    };
  });
}

/** "2026-12-02 18:00 Europe/Berlin", for an instant in a freeze's zone. */
const local = (iso: string, zone: string) => `${formatWall(wallClock(zone, Date.parse(iso)))} ${zone}`;

/** `freeze list` as text: one block per freeze, its state first so it reads at a glance. */
export function formatFreezes(summaries: FreezeSummary[], at = Date.now()): string {
  if (summaries.length === 0) return 'No change freezes declared (freezes: in temporal.yaml).';
  return summaries
    .map((s) => {
      const state = s.current
        ? `FROZEN NOW until ${local(s.current.end, s.timezone)} (${formatDuration(Date.parse(s.current.end) - at)} left)`
        : s.next
          ? `next: ${local(s.next.start, s.timezone)} until ${local(s.next.end, s.timezone)} (in ${formatDuration(Date.parse(s.next.start) - at)})`
          : 'no period within a year';
      const after =
        s.current && s.next
          ? [`  then: ${local(s.next.start, s.timezone)} until ${local(s.next.end, s.timezone)}`]
          : [];
      return [
        `${s.name}  ${state}`,
        ...after,
        `  environments: ${s.environments.join(', ') || 'none'}${s.tags.length > 0 ? ` (tags: ${s.tags.join(', ')})` : ''}`,
        `  when: ${s.when} (${s.timezone})`,
        ...(s.reason ? [`  reason: ${s.reason}`] : []),
      ].join('\n');
    })
    .join('\n\n');
}

/** The declared freeze `name` that applies to `environment`, or an error that says which do. */
export function freezeOf(config: LoadedConfig, environment: string, name: string): FreezeConfig {
  const applying = config.freezes.filter((f) =>
    frozenEnvironments(f, config.environments).includes(environment),
  );
  const freeze = applying.find((f) => f.name === name);
  if (!freeze)
    throw invalid(
      `No freeze "${name}" applies to ${environment}; freezes that do: ${applying.map((f) => f.name).join(', ') || 'none'} (freezes: in ${config.file}).`,
    );
  return freeze;
}

/**
 * An approver's exception to `freeze` for one run, the workflow `workflowId` of `workflowType` on `environment`, signed
 * with their key; valid for 15 minutes, as a signed start.
 */
export function signedFreezeException(
  config: LoadedConfig,
  key: SigningKey,
  /** `by`: the name typed with --by, if any (the key's owner decides). */
  request: {
    environment: string;
    workflowId: string;
    workflowType: string;
    freeze: string;
    by?: string;
    reason: string;
  },
  at = new Date(),
): FreezeException {
  const env = config.environments[request.environment];
  if (!env.protected)
    throw invalid(
      `${request.environment} is not protected: exceptions to a freeze are granted on protected environments only, by their approvers. ` +
        `Wait for the freeze to end, or change freezes: in ${config.file}.`,
    );
  freezeOf(config, request.environment, request.freeze);
  const by = signer(key, request.by ?? key.person, { typed: request.by !== undefined, option: '--by' });
  if (!(env.approvers ?? []).some((a) => samePerson(a, by)))
    throw invalid(
      `${by} is not an approver of ${request.environment} (approvers: ${(env.approvers ?? []).join(', ')}).`,
    );
  const unsigned = {
    freeze: request.freeze,
    by,
    reason: request.reason,
    signedAt: at.toISOString(),
  };
  const message = freezeExceptionMessage({
    namespace: config.temporal.namespace,
    workflowId: request.workflowId,
    workflowType: request.workflowType,
    environment: request.environment,
    ...unsigned,
  });
  return { ...unsigned, signature: sign(key, message) };
}

/** `--freeze-exception <file>`: the exception an approver wrote, checked before it goes into the input. */
export function readFreezeException(file: string): FreezeException {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw invalid(
      `Cannot read the freeze exception ${file}: ${(err as Error).message}. It is what \`maint freeze except\` wrote.`,
    );
  }
  const parsed = freezeExceptionSchema.safeParse(raw);
  if (!parsed.success)
    throw invalid(
      `${file} is not a freeze exception (${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}): write it with \`maint freeze except\`.`,
    );
  return parsed.data;
}
