import type { EnvironmentSnapshot } from '../contract/operation';
import type { Operation } from './operation';

/**
 * The rollback steps that put an environment back as a snapshot found it: the flag, then exactly the
 * AOS that ran (each restarted to read the restored flag), then a check. Steps for what was not
 * touched are skipped, and the check always runs.
 */
export async function restoreSnapshot(
  op: Operation,
  before: EnvironmentSnapshot,
  touched: { flag: boolean; aos: boolean },
): Promise<void> {
  const { environment } = op.status;
  if (touched.flag) {
    await op.step(
      'restoreFlag',
      () =>
        op.withRetries('restoreFlag', 'restore CONFIGURATIONMODE', () =>
          op.act.setConfigurationMode({ environment, value: before.configurationMode }),
        ),
      (r) => `CONFIGURATIONMODE ${r.previous} → ${before.configurationMode}`,
    );
  } else op.record.skipStep('restoreFlag', 'the flag was not changed');
  if (touched.aos) {
    await op.step(
      'restoreAos',
      () =>
        op.withRetries('restoreAos', 'restore AOS', () =>
          op.act.restoreTopology({ environment, snapshot: before }),
        ),
      (r) => (r.changed.length > 0 ? r.changed.join(' ') : 'nothing to change'),
    );
  } else op.record.skipStep('restoreAos', 'no AOS was touched');
  await op.step(
    'verifyRestored',
    () =>
      op.withRetries('verifyRestored', 'verify as before', () =>
        op.act.verifySnapshot({ environment, snapshot: before }),
      ),
    (r) => r.checks.join('; '),
  );
}
