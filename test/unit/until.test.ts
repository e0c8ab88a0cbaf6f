import { until } from '../helpers/until';

/** The tests' one way of waiting: what it returns, what counts as not yet, and how it gives up. */
describe('until', () => {
  it('returns the first value that is done, reading past errors and undefined', async () => {
    const reads = [
      () => Promise.reject(new Error('not started')),
      () => undefined,
      () => 1,
      () => 2,
      () => 3,
    ];
    let i = 0;
    await expect(
      until(
        () => reads[i++](),
        (n) => n >= 2,
        'two',
        { everyMs: 1 },
      ),
    ).resolves.toBe(2);
    expect(i).toBe(4);
  });

  it('gives up after its bound naming what it waited for and what it read last', async () => {
    await expect(
      until(
        () => ({ state: 'Running' }),
        (s) => s.state === 'Done',
        'the rollout to finish',
        {
          everyMs: 5,
          timeoutMs: 30,
        },
      ),
    ).rejects.toThrow('Waited 0.03 s for the rollout to finish; read last: {"state":"Running"}');
    await expect(
      until(
        () => Promise.reject(new Error('no such workflow')),
        Boolean,
        () => 'a status',
        { timeoutMs: 0 },
      ),
    ).rejects.toThrow('Waited 0 s for a status; read last: Error: no such workflow');
  });
});
