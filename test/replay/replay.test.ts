import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from '../helpers/temporal';

/**
 * Histories recorded from real runs: a retried AOS start, a disable, an already-in-mode run, and
 * failed operations that were resumed, rolled back, aborted and cancelled; maintenance windows
 * ended early and rolled back.
 * Today's workflow code must replay them without a determinism error; a change that would break
 * running operations fails here. Record a new file when the workflow's shape changes on purpose.
 */
const dir = path.join(__dirname, 'histories');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

beforeAll(quietRuntime);

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle() },
        history,
        file.replace(/\.json$/, ''),
      ),
    ).resolves.toBeUndefined();
  });
});
