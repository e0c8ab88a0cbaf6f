import { msToNumber } from '@temporalio/common/lib/time';
import {
  ACTIVITY_CALLS,
  FIXED_TIMEOUTS_MS,
  type CallStep,
  type DriverActivity,
} from '../activities/driver-calls';
import { CAPABILITIES, type Capability } from '../drivers/capabilities';
import { commandsOfCall } from '../drivers/command/calls';
import { OVERRUN_MS } from '../drivers/command/process';
import type { CommandName, CommandSettings } from '../drivers/command/settings';
import type { ActivityPolicy, EnvironmentConfig } from './schema';

/** The longest an activity of one environment can run: the commands on its longest path, and its own waits. */
interface Longest {
  activity: DriverActivity;
  ms: number;
  commands: { name: CommandName; timeoutMs: number }[];
  waitMs: number;
}

export interface TimeoutIssue {
  path: (string | number)[];
  message: string;
}

/**
 * The activities whose commands, each run to its timeout (and killed), do not fit the activity's
 * `startToCloseTimeout`: an attempt would be cut off while a command still runs, so an operation
 * whose restart is slow would fail on every attempt. One issue per environment and timeout, naming
 * both numbers and what to set. Only environments with a capability served by commands are checked.
 */
export function activityTimeoutIssues(
  environments: Record<string, EnvironmentConfig>,
  policy: ActivityPolicy,
): TimeoutIssue[] {
  const policyMs = msToNumber(policy.startToCloseTimeout);
  return Object.entries(environments).flatMap(([name, env]) => {
    const served = commandCapabilities(env);
    if (Object.keys(served).length === 0) return [];
    const over = (Object.keys(ACTIVITY_CALLS) as DriverActivity[])
      .map((activity) => longest(served, activity))
      .filter((l) => l.ms > (FIXED_TIMEOUTS_MS[l.activity] ?? policyMs));
    // The worst one says how long the policy must be; the fixed ones each say what to shorten.
    const [worst] = over.filter((l) => !FIXED_TIMEOUTS_MS[l.activity]).sort((a, b) => b.ms - a.ms);
    return [
      ...(worst ? [policyIssue(name, worst, policyMs)] : []),
      ...over.filter((l) => FIXED_TIMEOUTS_MS[l.activity]).map((l) => fixedIssue(name, l)),
    ];
  });
}

/** The command settings of each capability of `env` that commands serve. */
function commandCapabilities(env: EnvironmentConfig): Partial<Record<Capability, CommandSettings>> {
  return Object.fromEntries(
    CAPABILITIES.flatMap((c) => {
      const served = env.capabilities[c] ?? env;
      return served.driver === 'command' ? [[c, served]] : [];
    }),
  );
}

function longest(served: Partial<Record<Capability, CommandSettings>>, activity: DriverActivity): Longest {
  const commandsOf = (call: Exclude<CallStep, object>) => {
    const settings = served[call.split('.')[0] as Capability];
    return settings ? commandsOfCall(settings, call) : [];
  };
  const total = (commands: Longest['commands']) =>
    commands.reduce((sum, c) => sum + c.timeoutMs + OVERRUN_MS, 0);
  const result: Longest = { activity, ms: 0, commands: [], waitMs: 0 };
  for (const step of ACTIVITY_CALLS[activity] as CallStep[]) {
    if (typeof step === 'object' && 'waitMs' in step) result.waitMs += step.waitMs;
    else {
      const choices = typeof step === 'object' ? step.atOnce.map(commandsOf) : [commandsOf(step)];
      result.commands.push(...choices.reduce((a, b) => (total(b) > total(a) ? b : a)));
    }
  }
  result.ms = total(result.commands) + result.waitMs;
  return result;
}

/** "readFlag 1m, listAos 3 × 1m, restartAos 15m". */
function describeCommands(commands: Longest['commands']): string {
  const counts = new Map<string, number>();
  for (const c of commands) {
    const key = `${c.name} ${exact(c.timeoutMs)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => (n > 1 ? key.replace(' ', ` ${n} × `) : key)).join(', ');
}

function breakdown(l: Longest): string {
  const wait = l.waitMs ? `, and ${exact(l.waitMs)} of waiting for AOS that start or stop to settle` : '';
  return (
    `the commands on its longest path (${describeCommands(l.commands)}), each given up to ` +
    `${exact(OVERRUN_MS)} more to end once its timeout kills it${wait}`
  );
}

function policyIssue(environment: string, l: Longest, policyMs: number): TimeoutIssue {
  return {
    path: ['policies', 'activity', 'startToCloseTimeout'],
    message:
      `${exact(policyMs)} is shorter than the ${l.activity} activity of environment ${environment} can take: ` +
      `up to ${exact(l.ms)}, for ${breakdown(l)}. An attempt would be cut off while a command still runs, ` +
      `so a slow ${l.activity} would fail on every attempt. Set policies.activity.startToCloseTimeout to ` +
      `${Math.ceil(l.ms / 60_000)}m or more, or give these commands shorter timeouts (commands.<name>.timeout, or the driver's timeout).`,
  };
}

function fixedIssue(environment: string, l: Longest): TimeoutIssue {
  const limit = FIXED_TIMEOUTS_MS[l.activity]!;
  return {
    path: ['environments', environment],
    message:
      `the ${l.activity} activity of a dry run (maint plan) has ${exact(limit)}, fixed by the workflow, for ` +
      `read-only commands run at once, but can take up to ${exact(l.ms)} here, for ${breakdown(l)}. Give each ` +
      `read-only command (readFlag, listAos, probeUsers, listKeys, readImpact) a timeout of at most ${exact(limit - OVERRUN_MS)} ` +
      `(commands.<name>.timeout, or the driver's timeout), e.g. timeout: 1m.`,
  };
}

/** A duration as operators write it, to the second: "1h 5m 30s", "2m", "500ms". */
function exact(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let s = Math.ceil(ms / 1000);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) parts.push(`${Math.floor(s / size)}${unit}`);
    s %= size;
  }
  return parts.join(' ');
}
