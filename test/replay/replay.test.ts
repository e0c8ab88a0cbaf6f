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

/** Each file's history and the ID it ran under (a window derives its children's IDs from it). */
function fixture(file: string) {
  const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const workflowId: string = history.events[0].workflowExecutionStartedEventAttributes.workflowId;
  return { history, workflowId };
}

/**
 * Every history through one replay worker (a worker each cost 0.1 s, most of the suite's time): the
 * results come back in the order the histories went in, so that each file is still a case of its own.
 */
const replayed = new Map<string, unknown>();
beforeAll(async () => {
  quietRuntime();
  const fixtures = files.map(fixture);
  const results = Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, fixtures);
  let i = 0;
  for await (const { workflowId, error } of results) {
    expect(workflowId).toBe(fixtures[i].workflowId);
    replayed.set(files[i++], error);
  }
  expect(i).toBe(files.length);
});

describe('replay of recorded histories', () => {
  it('has histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  it.each(files)('replays %s deterministically', (file) => {
    expect(replayed.has(file)).toBe(true);
    expect(replayed.get(file)).toBeUndefined();
  });
});
