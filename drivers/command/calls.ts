import { msToNumber } from '@temporalio/common/lib/time';
import type { DriverCall } from '../capabilities';
import type { CommandName, CommandSettings } from './settings';

/**
 * The commands each capability call runs, one after another (index.ts): a write reads the flag
 * first; a stop lists the AOS before and after, a restart after (its caller has listed them before).
 */
const COMMANDS_PER_CALL: Record<DriverCall, CommandName[]> = {
  'flagStore.readConfigurationMode': ['readFlag'],
  'flagStore.writeConfigurationMode': ['readFlag', 'writeFlag'],
  'aosControl.list': ['listAos'],
  'aosControl.restart': ['restartAos', 'listAos'],
  'aosControl.stop': ['listAos', 'stopAos', 'listAos'],
  'probe.probeUsers': ['probeUsers'],
  'probe.signIn': ['signIn'],
  'license.list': ['listKeys'],
  'license.set': ['setKey'],
  'impact.read': ['readImpact'],
};

/**
 * The commands `call` runs with `settings`, in order, each with its timeout (its own, else the
 * driver's). A command not configured runs nothing: probeUsers without probe commands, say.
 */
export function commandsOfCall(
  settings: CommandSettings,
  call: DriverCall,
): { name: CommandName; timeoutMs: number }[] {
  return COMMANDS_PER_CALL[call].flatMap((name) => {
    const spec = settings.commands[name];
    return spec ? [{ name, timeoutMs: msToNumber(spec.timeout ?? settings.timeout) }] : [];
  });
}
