import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from '../helpers/temporal';

/**
 * Histories recorded from real runs: a retried AOS start, a disable, an already-in-mode run, and
 * failed operations that were resumed, rolled back, aborted and cancelled; maintenance windows
 * ended early and rolled back.
 * Today's workflow code must replay them without a determinism error; a change that would break
 * running operations fails here. Record new files when the workflow's shape changes on purpose, in
 * a subfolder named after the release (`histories/<release>/`): files are never moved or overwritten,
 * so every released shape stays covered.
 */
const dir = path.join(__dirname, 'histories');
const files = fs
  .readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();

beforeAll(quietRuntime);

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    // The ID it ran under: a window derives its children's IDs from it.
    const workflowId: string = history.events[0].workflowExecutionStartedEventAttributes.workflowId;
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId),
    ).resolves.toBeUndefined();
  });
});
