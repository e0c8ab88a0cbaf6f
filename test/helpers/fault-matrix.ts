import { logQuery, operationWorkflowId } from '../../contract/operation';
import type { FaultsPatch } from '../../fleet/schemas';
import { entityOf } from './entity';
import { startEndToEnd, type EndToEnd } from './e2e';
import { until } from './until';

/**
 * The fault matrix: for each step of an enable operation, a transient fault is retried to success
 * without anyone deciding; a persistent one makes the operation Failed, and then resume (after the
 * fault is cleared), rollback and abort each do what they promise. Faults come from the fleet's
 * switches; decisions come through the CLI. `commands`: the fleet is reached through the command
 * driver (examples/fleet-commands), so the same faults reach the worker as commands' exit codes.
 */
export function faultMatrix({
  commands = false,
  steps = ['flipFlag', 'restartAos', 'verify'] as string[],
} = {}) {
  let e2e: EndToEnd;
  beforeAll(async () => {
    e2e = await startEndToEnd({ faults: true, commands });
  });
  afterAll(() => e2e?.stop());

  const normal = {
    flag: 0,
    running: ['aos-1', 'aos-2', 'aos-3', 'aos-4', 'aos-5'],
  };

  afterEach(async () => {
    await e2e.env.fleet.clearFaults();
    if (JSON.stringify(await e2e.observe()) !== JSON.stringify(normal)) {
      expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'cleanup')).code).toBe(0);
    }
  });

  interface StepFault {
    step: 'flipFlag' | 'restartAos' | 'verify';
    persistent: FaultsPatch;
    /** A fault that clears by itself after two failures; undefined: cleared by the test. */
    transient?: FaultsPatch;
    errorType: string;
  }

  const matrix: StepFault[] = [
    { step: 'flipFlag', persistent: { databaseWritesBlocked: true }, errorType: 'DatabaseUnreachable' },
    {
      step: 'restartAos',
      persistent: { startFailures: { 'aos-1': 1000 } },
      transient: { startFailures: { 'aos-1': 2 } },
      errorType: 'AosStartFailed',
    },
    {
      step: 'verify',
      persistent: { signInFailures: { 'aos-1': 1000 } },
      transient: { signInFailures: { 'aos-1': 2 } },
      errorType: 'AosUnavailable',
    },
  ];

  const workflowId = operationWorkflowId('contoso-sandbox');
  const log = () => e2e.temporal.client.workflow.getHandle(workflowId).query(logQuery);
  const failedAttempts = async (step: string) =>
    (await log()).entries.filter((e) => e.kind === 'attempt' && e.step === step && e.outcome === 'failed');

  /** The newest entry of the environment history. */
  async function history() {
    return (await entityOf(e2e.temporal.client, e2e.env).history(1))[0];
  }

  /** Starts enable with a persistent fault on and waits (through the CLI) until it needs a decision. */
  async function failAt(fault: StepFault) {
    await e2e.env.fleet.setFaults(fault.persistent);
    const run = await e2e.maint(
      'enable',
      'contoso-sandbox',
      '--reason',
      `fault at ${fault.step}`,
      '-u',
      'oncall',
    );
    expect(run.code).toBe(6);
    expect(run.stdout).toContain('contoso-sandbox: maintenance-contoso-sandbox needs a decision.');
    expect(run.stdout).toContain(`error: `);
    const status = await e2e.maint('status', 'contoso-sandbox', '--json');
    const op = JSON.parse(status.stdout).operation.status;
    expect(op).toMatchObject({
      state: 'Failed',
      awaitingDecision: true,
      availableDecisions: ['resume', 'rollback', 'abort'],
      failure: { step: fault.step, error: { type: fault.errorType } },
    });
    const list = await e2e.maint('list', '--state', 'Failed');
    expect(list.stdout).toMatch(/contoso-sandbox\s+Failed \(needs a decision\)/);
    expect(await failedAttempts(fault.step)).toHaveLength(4);
  }

  describe.each(matrix.filter((f) => steps.includes(f.step)))('a fault at $step', (fault) => {
    it('that is transient is retried to success without a decision', async () => {
      const enable = e2e.maint('enable', 'contoso-sandbox', '-u', 'oncall');
      if (fault.transient) {
        await e2e.env.fleet.setFaults(fault.transient);
      } else {
        await e2e.env.fleet.setFaults(fault.persistent);
        // Cleared by hand once it has failed once: an outage that ends while the policy retries.
        await until(
          () => failedAttempts(fault.step),
          (failed) => failed.length > 0,
          `an attempt of ${fault.step} to fail`,
        );
        await e2e.env.fleet.clearFaults();
      }
      const run = await enable;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect((await failedAttempts(fault.step)).length).toBeGreaterThan(0);
      expect(await history()).toMatchObject({ result: 'Succeeded', decisions: [] });
    });

    it('that persists makes it Failed; resume after the fault is cleared succeeds', async () => {
      await failAt(fault);
      await e2e.env.fleet.clearFaults();
      const resumed = await e2e.maint('resume', 'contoso-sandbox', '--reason', 'fault cleared', '-u', 'jane');
      expect(resumed.stderr).toBe('');
      expect(resumed.code).toBe(0);
      expect(resumed.stdout).toContain('resume accepted');
      expect(resumed.stdout).toContain('contoso-sandbox is InMaintenance (Succeeded).');
      expect(await e2e.observe()).toEqual({
        flag: 1,
        running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'],
      });
      expect(await history()).toMatchObject({
        result: 'Succeeded',
        requestedBy: 'oncall',
        decisions: [{ kind: 'resume', by: 'jane', reason: 'fault cleared', step: fault.step }],
      });
    });

    it('that persists makes it Failed; rollback puts back the flag, the AOS and their modes', async () => {
      const before = await e2e.observe();
      await failAt(fault);
      if (fault.step === 'restartAos') {
        // The rollback's own restart of aos-1 fails too: the rollback is Failed and can be resumed.
        const stuck = await e2e.maint('rollback', 'contoso-sandbox', '-u', 'jane');
        expect(stuck.code).toBe(6);
        const status = JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout).operation
          .status;
        expect(status).toMatchObject({
          phase: 'rollback',
          failure: { step: 'restoreAos' },
          availableDecisions: ['resume', 'abort'],
        });
        const refused = await e2e.maint('rollback', 'contoso-sandbox', '-u', 'jane');
        expect(refused.code).toBe(4);
        expect(refused.stderr).toMatch(
          /rollback refused: the operation is rolling back already: resume or abort/,
        );
        await e2e.env.fleet.clearFaults();
        const resumed = await e2e.maint('resume', 'contoso-sandbox', '-u', 'jane');
        expect(resumed.code).toBe(1); // the operation ends RolledBack, not Succeeded
        expect(resumed.stdout).toContain('contoso-sandbox is Deployed (RolledBack).');
      } else {
        await e2e.env.fleet.clearFaults();
        const rolledBack = await e2e.maint(
          'rollback',
          'contoso-sandbox',
          '--reason',
          'not today',
          '-u',
          'jane',
        );
        expect(rolledBack.stderr).toBe('');
        expect(rolledBack.code).toBe(0);
        expect(rolledBack.stdout).toContain('contoso-sandbox is Deployed (RolledBack).');
      }
      expect(await e2e.observe()).toEqual(before);
      expect(await history()).toMatchObject({
        result: 'RolledBack',
        decisions: expect.arrayContaining([expect.objectContaining({ kind: 'rollback' })]),
      });
    });

    it('that persists makes it Failed; abort leaves the environment as it was at the failure', async () => {
      await failAt(fault);
      const atFailure = await e2e.observe();
      const aborted = await e2e.maint('abort', 'contoso-sandbox', '--reason', 'giving up', '-u', 'jane');
      expect(aborted.code).toBe(0);
      expect(aborted.stdout).toMatch(
        /Aborted by jane \(giving up\) after ".*" failed: .*The environment was left as it was\./,
      );
      expect(await e2e.observe()).toEqual(atFailure);
      expect(await history()).toMatchObject({
        result: 'Aborted',
        decisions: [{ kind: 'abort', by: 'jane', reason: 'giving up' }],
      });
      const status = JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout);
      expect(status).toMatchObject({
        state: 'Failed',
        operation: { execution: 'FAILED', status: { result: 'Aborted' } },
      });
    });
  });

  return { e2e: () => e2e, workflowId, log, history, failAt };
}
