import fs from 'node:fs';
import { ScheduleNotFoundError, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import { bookedWindows, maintenanceCalendar, upcomingFreezes, upcomingWindows } from '../calendar';
import { formatSchedules } from '../format';
import { ExitCode, OperatorError } from '../operations';
import { listSchedules, resolveScheduleId, syncSchedules } from '../schedules';
import { bookedRow, listBookings } from '../bookings';
import { config, err, me, out, withClient } from './shared';

/** `schedule sync|list|calendar|trigger|pause|unpause`: Temporal Schedules of maintenance windows and rollouts. */

export function scheduleCommands(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules of maintenance windows and rollouts (declared in temporal.yaml)');
  schedule
    .command('sync')
    .description('Make the Schedules on the server match temporal.yaml; print what changed')
    .option('--dry-run', 'say what would change, change nothing')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const lines = await syncSchedules(client, c, { dryRun: opts.dryRun });
        if (opts.json) out(JSON.stringify(lines, null, 2));
        else if (lines.length === 0) out('No schedules declared, none to delete.');
        else
          for (const l of lines)
            out(
              `${(opts.dryRun ? `would be ${l.change}` : l.change).padEnd(16)} ${l.id.padEnd(24)} ${l.detail}`,
            );
        const refused = lines.filter((l) => l.change === 'refused').length;
        if (refused > 0)
          throw new OperatorError(
            `${refused} schedule${refused > 1 ? 's were' : ' was'} refused: correct temporal.yaml and sync again.`,
            ExitCode.InvalidInput,
          );
      });
    });
  schedule
    .command('list')
    .description('Every Schedule with its next run times')
    .option('--json', 'print JSON instead of text')
    .action(async (opts: { json?: boolean }) => {
      await withClient(program, undefined, async ({ config: c, client }) => {
        const booked = (await listBookings(client)).map(bookedRow);
        const rows = [...(await listSchedules(client, c.installation)), ...booked];
        out(opts.json ? JSON.stringify(rows, null, 2) : formatSchedules(rows));
      });
    });
  schedule
    .command('calendar')
    .description(
      'Export the upcoming windows of the declared schedules, and the change freezes, as iCalendar (.ics)',
    )
    .option('--days <n>', 'how many days ahead', '30')
    .option('-o, --output <file>', 'write the calendar to this file instead of stdout')
    .option('--include-paused', 'include schedules paused in temporal.yaml, marked tentative')
    .option('--booked', 'include the windows booked ahead (`maint window --at`; asks the Temporal server)')
    .action(async (opts: { days: string; output?: string; includePaused?: boolean; booked?: boolean }) => {
      const days = Number(opts.days);
      if (!Number.isInteger(days) || days < 1 || days > 366)
        throw new OperatorError(
          `--days must be a whole number from 1 to 366 (got "${opts.days}").`,
          ExitCode.InvalidInput,
        );
      const c = config(program);
      const booked = opts.booked
        ? await withClient(program, undefined, async ({ client }) => listBookings(client))
        : [];
      const windows = [
        ...upcomingWindows(c, { days, includePaused: opts.includePaused }),
        ...bookedWindows(booked, { days }),
      ].sort((a, b) => a.start.getTime() - b.start.getTime());
      const freezes = upcomingFreezes(c, { days });
      const ics = maintenanceCalendar(c, windows, freezes);
      if (!opts.output) return void process.stdout.write(ics);
      fs.writeFileSync(opts.output, ics);
      const frozen =
        freezes.length > 0
          ? ` and ${freezes.length} change freeze period${freezes.length === 1 ? '' : 's'}`
          : '';
      err(
        `${windows.length} window${windows.length === 1 ? '' : 's'}${frozen} in the next ${days} days written to ${opts.output}.`,
      );
    });
  for (const [verb, description] of [
    ['trigger', 'Start a run of this schedule now, window or rollout (skipped if one is running)'],
    ['pause', 'Pause a schedule (kept across syncs until temporal.yaml changes its `paused` value)'],
    ['unpause', 'Unpause a schedule'],
  ] as const) {
    schedule
      .command(verb)
      .description(description)
      .argument('<id>', 'schedule id, as declared in temporal.yaml or as `schedule list` shows it')
      .option('-r, --reason <text>', 'why (kept as the schedule note)', '')
      .action(async (id: string, opts: { reason: string }) => {
        await withClient(program, undefined, async ({ config: c, client }) => {
          const handle = client.schedule.getHandle(resolveScheduleId(c, id));
          try {
            if (verb === 'trigger') await handle.trigger(ScheduleOverlapPolicy.SKIP);
            else if (verb === 'pause') await handle.pause(opts.reason || `paused by ${me()}`);
            else await handle.unpause(opts.reason || `unpaused by ${me()}`);
          } catch (e) {
            if (e instanceof ScheduleNotFoundError)
              throw new OperatorError(`No schedule "${id}". See \`maint schedule list\`.`, ExitCode.NotFound);
            throw e;
          }
          out(`${handle.scheduleId}: ${verb === 'trigger' ? 'triggered' : `${verb}d`}.`);
        });
      });
  }
}
