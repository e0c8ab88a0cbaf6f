/**
 * Who an operation that turns maintenance mode on would affect now: signed-in users, batch jobs running
 * or due before it ends, active integrations. Read by a driver's optional `impact` capability for
 * `maint plan`, dry runs and a protected environment's approval request. Import-safe.
 */
import { z } from 'zod';

/** How many user names a preview keeps: enough to recognise who is working, bounded in histories. */
export const NAMED_USERS = 5;
/** How many batch jobs and integrations a preview lists; the rest are counted. */
export const LISTED_ITEMS = 10;

const name = z.string().trim().min(1).max(200);

/** What a driver reports (the command driver parses a command's JSON with it). */
export const impactReportSchema = z
  .object({
    users: z.object({ count: z.number().int().min(0), names: z.array(name).default([]) }).strict(),
    batchJobs: z
      .array(
        z
          .object({
            name,
            status: z.enum(['executing', 'waiting']),
            /** When a waiting job is due (ISO 8601); absent for one that runs now. */
            startsAt: z.string().datetime({ offset: true }).optional(),
          })
          .strict(),
      )
      .default([]),
    /** Absent when the driver cannot tell. */
    integrations: z.array(z.object({ name, detail: z.string().max(500).optional() }).strict()).optional(),
  })
  .strict();
export type ImpactReport = z.infer<typeof impactReportSchema>;

/** The preview an operation carries: the report bounded, or why there is none (never a failure). */
export type ImpactPreview =
  | {
      available: true;
      /** Until when batch jobs count: the end of the window, or an hour for an enable. */
      until: string;
      users: { count: number; names: string[] };
      batchJobs: { count: number; listed: ImpactReport['batchJobs'] };
      integrations?: { count: number; listed: NonNullable<ImpactReport['integrations']> };
    }
  | { available: false; reason: string };

/** How far ahead an enable (which has no end) counts batch jobs due. */
export const ENABLE_HORIZON_MS = 60 * 60 * 1000;

/** The report, bounded, with the jobs due after `until` left out. */
export function previewOf(report: ImpactReport, until: string): ImpactPreview {
  const due = report.batchJobs.filter(
    (j) => j.status === 'executing' || !j.startsAt || Date.parse(j.startsAt) <= Date.parse(until),
  );
  return {
    available: true,
    until,
    users: { count: report.users.count, names: report.users.names.slice(0, NAMED_USERS) },
    batchJobs: { count: due.length, listed: due.slice(0, LISTED_ITEMS) },
    ...(report.integrations && {
      integrations: {
        count: report.integrations.length,
        listed: report.integrations.slice(0, LISTED_ITEMS),
      },
    }),
  };
}

/** The preview as lines of text, for the plan, the CLI and Current Details. */
export function formatImpact(preview: ImpactPreview): string[] {
  if (!preview.available) return [`impact: ${preview.reason}`];
  const { users, batchJobs, integrations } = preview;
  const more = (count: number, shown: number) => (count > shown ? `, and ${count - shown} more` : '');
  const jobs = batchJobs.listed.map((j) =>
    j.status === 'executing' ? `${j.name} (running)` : `${j.name} (due ${j.startsAt ?? 'now'})`,
  );
  return [
    `impact: ${users.count} signed-in user${users.count === 1 ? '' : 's'}${
      users.names.length ? ` (${users.names.join(', ')}${more(users.count, users.names.length)})` : ''
    }`,
    `impact: ${batchJobs.count} batch job${batchJobs.count === 1 ? '' : 's'} running or due before ${preview.until}${
      jobs.length ? `: ${jobs.join(', ')}${more(batchJobs.count, jobs.length)}` : ''
    }`,
    integrations
      ? `impact: ${integrations.count} active integration${integrations.count === 1 ? '' : 's'}${
          integrations.listed.length
            ? `: ${integrations.listed.map((i) => (i.detail ? `${i.name} (${i.detail})` : i.name)).join(', ')}${more(integrations.count, integrations.listed.length)}`
            : ''
        }`
      : 'impact: active integrations not known to this driver',
  ];
}

/** What a preview says when the driver has no `impact` capability. */
export const IMPACT_NOT_AVAILABLE = 'not available from this driver';
