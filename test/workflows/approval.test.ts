import { randomUUID } from 'node:crypto';
import {
  Client,
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type ApplicationFailure,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { approvalSignals, approvalUpdates } from '../../contract/approval';
import { decisionUpdates, logQuery, statusQuery, type DecisionInput } from '../../contract/operation';
import { rolloutChildId } from '../../contract/rollout';
import { endWindowUpdate, extendWindowUpdate, type WindowResult } from '../../contract/window';
import { signedAnswer, signedStart, signingKey, type SigningKey } from '../../client/signing';
import { parsePublicKeyLine } from '../../contract/sshsig';
import { EnvironmentEntities } from '../../client/environment-entity';
import {
  disableMaintenanceMode,
  enableMaintenanceMode,
  maintenanceRollout,
  maintenanceWindow,
} from '../../workflows';
import { entityOf } from '../helpers/entity';
import { testPeople, type PersonName } from '../helpers/people';
import { recordHistory } from '../helpers/record-history';
import { waitForDecision, waitForStatus } from '../helpers/status';
import { timeSkippingTestbed } from '../helpers/testbed';
import { until } from '../helpers/until';
import { DefaultLogger, Worker, bundleWorkflowCode } from '@temporalio/worker';

const keys = testPeople();
afterAll(() => keys.remove());
const bed = timeSkippingTestbed({
  protected: true,
  approvers: keys.approvers,
  people: keys.people,
  approvalTimeout: '24h',
  faults: true,
});
const { withWorker } = bed;
/** A person's signing key; the stranger's as the CLI would use it, though temporal.yaml does not know it. */
const keyOf = (name: PersonName): SigningKey =>
  name === 'stranger'
    ? {
        file: keys.person(name).key,
        person: name,
        fingerprint: parsePublicKeyLine(keys.person(name).pub).fingerprint,
      }
    : signingKey(bed.env.config, keys.person(name).key);

type Workflow = typeof enableMaintenanceMode | typeof disableMaintenanceMode | typeof maintenanceWindow;

/** Starts `workflow` as the CLI does on a protected environment: the input signed by `signer` (default: the requester). */
async function start(
  workflow: Workflow,
  { requestedBy = 'alice', signer = requestedBy as PersonName | null, extra = {} as object } = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof enableMaintenanceMode>> {
  const workflowId = `test-${randomUUID()}`;
  const typed = { environment: bed.env.name, requestedBy, reason: 'approval test', ...extra };
  const input = signer
    ? signedStart(
        bed.env.config,
        keyOf(signer),
        { workflowId, workflowType: workflow.name },
        typed,
        new Date(await bed.temporal.currentTimeMs()),
      )
    : typed;
  return bed.temporal.client.workflow.start(workflow as typeof enableMaintenanceMode, {
    workflowId,
    taskQueue: bed.env.config.temporal.taskQueue,
    args: [input],
  });
}

/** An answer to `handle` signed by `signer`, as `maint <answer>` (or `--print-signal`) makes it. */
async function signed<T extends object>(
  handle: WorkflowHandle,
  answer: string,
  signer: PersonName,
  payload = {} as T,
) {
  const s = await handle.query(statusQuery);
  return signedAnswer(bed.env.config, keyOf(signer), handle, answer, {
    payload: { by: signer as string, reason: '', ...payload },
    answers: s.answers ?? 0,
  });
}

const awaitingApproval = (h: WorkflowHandle) => waitForStatus(h, (s) => !!s.approval?.awaiting);

/** The reason an update was refused with. */
async function refusal(
  handle: WorkflowHandle,
  update: UpdateDefinition<unknown, [DecisionInput]>,
  input: DecisionInput,
) {
  const e = await handle.executeUpdate(update, { args: [input] }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WorkflowUpdateFailedError);
  return (e as WorkflowUpdateFailedError).cause?.message;
}

/** With RECORD_HISTORY_DIR set, keeps the run as a replay fixture. */
const record = async (file: string, workflowId: string) =>
  recordHistory(
    file,
    workflowId,
    (await bed.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [],
  );

const entity = () => entityOf(bed.temporal.client, bed.env);
const entityState = async () =>
  (await new EnvironmentEntities(bed.temporal.client, bed.env.config.temporal.taskQueue).view(bed.env.name))
    ?.state;
/** What users would see: the flag and each AOS with its status and the mode it read. */
const observe = async () => ({
  flag: bed.env.readFlag(),
  aos: (await bed.env.fleet.listAos()).map((a) => `${a.id} ${a.status} ${a.maintenanceMode}`),
});

describe('approval on a protected environment: signed by people, not typed names (time-skipping server)', () => {
  afterEach(async () => {
    await bed.env.fleet.clearFaults();
    // Leave maintenance mode off for the next test; on a protected environment that needs approval too.
    if (bed.env.readFlag() === 0) return;
    await withWorker(async () => {
      const handle = await start(disableMaintenanceMode, { requestedBy: 'alice' });
      await awaitingApproval(handle);
      await handle.executeUpdate(approvalUpdates.approve, {
        args: [await signed(handle, 'approve', 'carol')],
      });
      return handle.result();
    });
  });

  it('a signed request waits without the lock or any change, then proceeds on an approve signed by an approver; the key is in the decision, the log and the history', async () => {
    const before = await observe();
    const { waiting, holderWhileWaiting, seenWhileWaiting, ack, result, log, runId } = await withWorker(
      async () => {
        const handle = await start(enableMaintenanceMode);
        const waiting = await awaitingApproval(handle);
        const holderWhileWaiting = await entity().holder();
        const seenWhileWaiting = await observe();
        const ack = await handle.executeUpdate(approvalUpdates.approve, {
          args: [await signed(handle, 'approve', 'bob', { reason: 'CAB-42' })],
        });
        const result = await handle.result();
        await record('enable-signed-approval.json', handle.workflowId);
        return {
          waiting,
          holderWhileWaiting,
          seenWhileWaiting,
          ack,
          result,
          log: await handle.query(logQuery),
          runId: handle.firstExecutionRunId,
        };
      },
    );
    const alice = keyOf('alice');
    const bob = keyOf('bob');
    expect(waiting).toMatchObject({
      state: 'AwaitingApproval',
      step: null,
      requestedBy: 'alice',
      requester: { person: 'alice', via: 'signature', fingerprint: alice.fingerprint },
      approval: { awaiting: true, approvers: ['bob', 'carol'] },
    });
    expect(holderWhileWaiting).toBeUndefined();
    expect(seenWhileWaiting).toEqual(before);
    const approval = {
      kind: 'approve',
      by: 'bob',
      reason: 'CAB-42',
      fingerprint: bob.fingerprint,
      step: null,
    };
    expect(ack.decision).toMatchObject(approval);
    expect(result).toMatchObject({ result: 'Succeeded', state: 'InMaintenance', decisions: [approval] });
    expect(bed.env.readFlag()).toBe(1);
    const messages = log.entries.map((e) => e.message);
    expect(messages).toContain(`requested by alice, signed with key ${alice.fingerprint}`);
    expect(messages).toContain(`approve by bob (signed, key ${bob.fingerprint}): CAB-42`);
    const [entry] = (await entity().history()).filter((e) => e.runId === runId);
    expect(entry).toMatchObject({ result: 'Succeeded', decisions: [approval] });
  });

  it.each([
    ['unsigned', { signer: null }, 'its start is not signed'],
    [
      "signed with another person's key",
      { signer: 'mallory' as const },
      "its start is signed with mallory's key",
    ],
    ['signed with a key nobody registered', { signer: 'stranger' as const }, 'the key SHA256:'],
  ])(
    'refuses a start that is %s: NotTrusted, nothing changed, no lock, no history entry',
    async (_, how, why) => {
      const before = await observe();
      const { error, runId } = await withWorker(async () => {
        const handle = await start(enableMaintenanceMode, how);
        const error = await handle.result().catch((e: unknown) => e);
        if (!how.signer) await record('enable-unsigned-refused.json', handle.workflowId);
        return { error, runId: handle.firstExecutionRunId };
      });
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('NotTrusted');
      expect(cause.message).toContain(`${bed.env.name} is protected and ${why}`);
      expect(cause.message).toContain(`maint enable ${bed.env.name} --print-input`);
      expect(cause.message).toContain('Nothing was changed.');
      expect(await observe()).toEqual(before);
      expect(await entity().holder()).toBeUndefined();
      expect((await entity().history()).filter((e) => e.runId === runId)).toEqual([]);
    },
  );

  it('refuses every approval that does not prove an approver other than the requester, each with its reason', async () => {
    const { reasons, other, result } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode, { requestedBy: 'bob' });
      const second = await start(enableMaintenanceMode, { requestedBy: 'alice' });
      await awaitingApproval(handle);
      await awaitingApproval(second);
      const forSecond = await signed(second, 'approve', 'carol');
      const reasons = {
        // A client identity header proves nothing: any client can send one.
        forgedHeader: await refusal(handle, approvalUpdates.approve, { by: 'carol', reason: 'trust me' }),
        // Signed, but claiming to be someone else.
        typedBy: await refusal(
          handle,
          approvalUpdates.approve,
          await signed(handle, 'approve', 'mallory', { by: 'carol' }),
        ),
        nonApprover: await refusal(
          handle,
          approvalUpdates.approve,
          await signed(handle, 'approve', 'mallory'),
        ),
        selfSigned: await refusal(handle, approvalUpdates.approve, await signed(handle, 'approve', 'bob')),
        unknownKey: await refusal(
          handle,
          approvalUpdates.approve,
          await signed(handle, 'approve', 'stranger'),
        ),
        otherRun: await refusal(handle, approvalUpdates.approve, forSecond),
        otherAnswer: await refusal(handle, approvalUpdates.approve, {
          ...(await signed(handle, 'reject', 'carol')),
        }),
        staleSeq: await refusal(handle, approvalUpdates.approve, {
          ...(await signed(handle, 'approve', 'carol')),
          seq: 7,
        }),
      };
      await second.executeUpdate(approvalUpdates.reject, { args: [await signed(second, 'reject', 'alice')] });
      const ack = await handle.executeUpdate(approvalUpdates.approve, {
        args: [await signed(handle, 'approve', 'carol')],
      });
      return { reasons, other: await second.result(), result: { ack, end: await handle.result() } };
    });
    const mallory = keyOf('mallory').fingerprint;
    expect(reasons.forgedHeader).toMatch(
      /^approve refused: it is not signed: answers on a protected environment are signed/,
    );
    expect(reasons.forgedHeader).toContain('--print-signal');
    expect(reasons.typedBy).toBe(
      `approve refused: it is signed with mallory's key (${mallory}) but says "by": "carol"`,
    );
    expect(reasons.nonApprover).toBe(
      'approve refused: mallory is not an approver of contoso-sandbox (approvers: bob, carol)',
    );
    expect(reasons.selfSigned).toBe(
      "approve refused: you requested it; someone else must approve (signed with the requester's own key)",
    );
    expect(reasons.unknownKey).toBe(
      `approve refused: the key ${keyOf('stranger').fingerprint} is not registered: add its .pub line under people: in the worker's temporal.yaml`,
    );
    expect(reasons.otherRun).toMatch(
      /^approve refused: the signature does not verify for approve to test-\S+ \(run \S+\)/,
    );
    expect(reasons.otherAnswer).toMatch(/^approve refused: the signature does not verify for approve/);
    expect(reasons.staleSeq).toBe(
      'approve refused: it was signed as answer #7, and this operation is at answer #0: sign it again',
    );
    expect(other).toMatchObject({ result: 'Rejected', decisions: [{ kind: 'reject', by: 'alice' }] });
    expect(result.end).toMatchObject({ result: 'Succeeded', decisions: [{ kind: 'approve', by: 'carol' }] });
  });

  it('a reject signed by anyone registered ends it Rejected with nothing changed and a history entry naming the key', async () => {
    const before = await observe();
    const stateBefore = await entityState();
    const { result, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      await awaitingApproval(handle);
      await handle.executeUpdate(approvalUpdates.reject, {
        args: [await signed(handle, 'reject', 'mallory', { reason: 'not in the freeze' })],
      });
      return { result: await handle.result(), runId: handle.firstExecutionRunId };
    });
    expect(result).toMatchObject({
      result: 'Rejected',
      state: 'Rejected',
      decisions: [{ kind: 'reject', by: 'mallory', reason: 'not in the freeze' }],
    });
    expect(await observe()).toEqual(before);
    expect(await entityState()).toBe(stateBefore);
    const [entry] = (await entity().history()).filter((e) => e.runId === runId);
    expect(entry.detail).toBe(
      `reject by mallory (signed, key ${keyOf('mallory').fingerprint}) (not in the freeze); nothing was changed`,
    );
  });

  it('ends Rejected after policies.approvalTimeout (24h) without an answer, with nothing changed', async () => {
    const before = await observe();
    const { result, runId } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      return { result: await handle.result(), runId: handle.firstExecutionRunId };
    });
    expect(result).toMatchObject({ result: 'Rejected', decisions: [{ kind: 'timeout', by: 'system' }] });
    expect(Date.parse(result.finishedAt) - Date.parse(result.startedAt)).toBeGreaterThanOrEqual(
      24 * 3600_000,
    );
    expect(await observe()).toEqual(before);
    const [entry] = (await entity().history()).filter((e) => e.runId === runId);
    expect(entry.detail).toMatch(/^no approval by .+; nothing was changed$/);
  });

  it('from the Web UI: a pasted signed signal approves, an unsigned one is noted as ignored with the command that signs it', async () => {
    const { result, log, details } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      await awaitingApproval(handle);
      // The Web UI's signal: no client identity header, the input pasted as `maint approve --print-signal` printed it.
      const webUi = new Client({ connection: bed.temporal.connection }).workflow.getHandle(handle.workflowId);
      await webUi.signal(approvalSignals.approve, { by: 'carol' });
      // What the Web UI shows of it: the workflow's Current Details (the metadata query).
      const { currentDetails: details } = await until(
        () => handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata'),
        (meta) => !!meta.currentDetails?.includes('Signal approve ignored'),
        'Current Details that tell of the ignored signal',
      );
      await webUi.signal(
        approvalSignals.approve,
        await signed(handle, 'approve', 'carol', { reason: 'looks fine' }),
      );
      return { result: await handle.result(), log: await handle.query(logQuery), details };
    });
    expect(details).toContain('**Signal approve ignored: it is not signed');
    expect(result).toMatchObject({
      result: 'Succeeded',
      decisions: [
        { kind: 'approve', by: 'carol', reason: 'looks fine', fingerprint: keyOf('carol').fingerprint },
      ],
    });
    const ignored = log.entries.map((e) => e.message).find((m) => m.startsWith('Signal approve ignored'));
    expect(ignored).toContain('it is not signed');
    expect(ignored).toContain(`maint approve ${result.operationId} --print-signal`);
  });

  it('takes only signed decisions on a failed step, counted so that one signed answer cannot be sent twice', async () => {
    await bed.env.fleet.setFaults({ startFailures: { 'aos-1': 1000 } });
    const { unsigned, replayed, result } = await withWorker(async () => {
      const handle = await start(enableMaintenanceMode);
      await awaitingApproval(handle);
      await handle.executeUpdate(approvalUpdates.approve, { args: [await signed(handle, 'approve', 'bob')] });
      await waitForDecision(handle);
      const unsigned = await refusal(handle, decisionUpdates.resume, { by: 'alice' });
      const resume = await signed(handle, 'resume', 'mallory', { reason: 'retry' });
      await handle.executeUpdate(decisionUpdates.resume, { args: [resume] });
      await waitForStatus(handle, (s) => s.awaitingDecision && s.decisions.length === 2);
      const replayed = await refusal(handle, decisionUpdates.resume, resume);
      await bed.env.fleet.clearFaults();
      await handle.executeUpdate(decisionUpdates.rollback, {
        args: [await signed(handle, 'rollback', 'alice')],
      });
      const result = await handle.result();
      await record('enable-signed-resume-rollback.json', handle.workflowId);
      return { unsigned, replayed, result };
    });
    expect(unsigned).toMatch(/^resume refused: it is not signed/);
    expect(replayed).toBe(
      'resume refused: it was signed as answer #1, and this operation is at answer #2: sign it again',
    );
    expect(result).toMatchObject({
      result: 'RolledBack',
      decisions: [
        { kind: 'approve', by: 'bob' },
        { kind: 'resume', by: 'mallory', fingerprint: keyOf('mallory').fingerprint },
        { kind: 'rollback', by: 'alice', fingerprint: keyOf('alice').fingerprint },
      ],
    });
  });

  it.each([
    [
      'a workflow type of its own',
      'handMadeParent',
      'is a handMadeParent, not a window or rollout of this product',
    ],
    [
      "the window's type name on a task queue of its own",
      'maintenanceWindow',
      'runs on task queue hand-made',
    ],
  ])('a child whose parent is %s is refused: NotTrusted, nothing changed', async (_, parentType, why) => {
    const before = await observe();
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/workflows/hand-made-parents'),
      logger: new DefaultLogger('ERROR'),
    });
    const handMade = await Worker.create({
      connection: bed.temporal.nativeConnection,
      taskQueue: 'hand-made',
      workflowBundle: bundle,
    });
    const error = await handMade.runUntil(
      withWorker(async () => {
        const parent = await bed.temporal.client.workflow.start(parentType, {
          workflowId: `hand-made-${randomUUID()}`,
          taskQueue: 'hand-made',
          args: [
            {
              taskQueue: bed.env.config.temporal.taskQueue,
              input: {
                environment: bed.env.name,
                requestedBy: 'alice',
                reason: 'no approval needed, surely',
              },
            },
          ],
        });
        const error = await parent.result().catch((e: unknown) => e);
        if (parentType === 'handMadeParent')
          await record('enable-hand-made-parent-refused.json', `${parent.workflowId}-enable`);
        return error;
      }),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause?.cause as ApplicationFailure;
    expect(cause.type).toBe('NotTrusted');
    expect(cause.message).toContain(`${bed.env.name} is protected and its parent hand-made-`);
    expect(cause.message).toContain(why);
    expect(await observe()).toEqual(before);
  });

  it('a rollout over a protected environment proves its requester by a signed start; each protected member still asks an approver', async () => {
    const rolloutOf = async (sign: boolean) => {
      const workflowId = `rollout-${randomUUID()}`;
      const typed = { action: 'enable', environments: [bed.env.name], requestedBy: 'alice', reason: 'keys' };
      const at = new Date(await bed.temporal.currentTimeMs());
      const target = { workflowId, workflowType: 'maintenanceRollout' };
      return bed.temporal.client.workflow.start(maintenanceRollout, {
        workflowId,
        taskQueue: bed.env.config.temporal.taskQueue,
        args: [sign ? signedStart(bed.env.config, keyOf('alice'), target, typed, at) : typed],
      });
    };
    const { refused, member, result } = await withWorker(async () => {
      const refused = await (await rolloutOf(false)).result().catch((e: unknown) => e);
      const rollout = await rolloutOf(true);
      const child = bed.temporal.client.workflow.getHandle(rolloutChildId(rollout.workflowId, bed.env.name));
      const member = await waitForStatus(child, (s) => !!s.approval?.awaiting);
      await child.executeUpdate(approvalUpdates.approve, { args: [await signed(child, 'approve', 'carol')] });
      const result = await rollout.result();
      await record('rollout-signed.json', rollout.workflowId);
      await record('rollout-signed-member.json', child.workflowId);
      return { refused, member, result };
    });
    expect(((refused as WorkflowFailedError).cause as ApplicationFailure).message).toContain(
      `The rollout services protected environments (${bed.env.name}) and its start is not signed. Nothing was started.`,
    );
    expect(member.requester).toMatchObject({
      person: 'alice',
      via: 'parent',
      fingerprint: keyOf('alice').fingerprint,
    });
    expect(result).toMatchObject({ result: 'Succeeded', counts: { succeeded: 1 } });
  });

  it("a window's approval covers its children, checked at the server; ending it takes a signed answer", async () => {
    const { enableChild, unsignedEnd, result } = await withWorker(async () => {
      const handle = await start(maintenanceWindow, { extra: { duration: 'PT1H' } });
      await awaitingApproval(handle);
      await handle.executeUpdate(approvalUpdates.approve, { args: [await signed(handle, 'approve', 'bob')] });
      await waitForStatus(handle, (s) => !!s.window?.endsAt);
      const enableChild = await bed.temporal.client.workflow
        .getHandle(`${handle.workflowId}-enable`)
        .query(statusQuery);
      const unsignedEnd = await refusal(handle, endWindowUpdate, { by: 'bob' });
      await handle.executeUpdate(extendWindowUpdate, {
        args: [await signed(handle, 'extendWindow', 'carol', { duration: 'PT30M' })],
      });
      await handle.executeUpdate(endWindowUpdate, { args: [await signed(handle, 'endWindow', 'mallory')] });
      const result = await handle.result();
      await record('window-signed.json', handle.workflowId);
      await record('window-signed-enable.json', `${handle.workflowId}-enable`);
      await record('window-signed-disable.json', `${handle.workflowId}-disable`);
      return { enableChild, unsignedEnd, result };
    });
    expect(enableChild).toMatchObject({
      requester: { person: 'alice', via: 'parent', fingerprint: keyOf('alice').fingerprint },
      approval: { awaiting: false, verified: { by: 'bob', fingerprint: keyOf('bob').fingerprint } },
      decisions: [],
    });
    expect(unsignedEnd).toMatch(/^endWindow refused: it is not signed/);
    expect(unsignedEnd).toContain(`\`maint end-window ${result.operationId} --print-signal\``);
    expect(result).toMatchObject({
      result: 'Succeeded',
      window: {
        extensions: [{ by: 'carol', duration: '30m', fingerprint: keyOf('carol').fingerprint }],
        endedEarly: { by: 'mallory', fingerprint: keyOf('mallory').fingerprint },
      },
    });
    expect(result.steps.map((s) => `${s.name} ${s.status}`)).toEqual([
      'preflight succeeded',
      'enable succeeded',
      'applyChanges skipped',
      'window succeeded',
      'disable succeeded',
      'record succeeded',
    ]);
    expect(bed.env.readFlag()).toBe(0);
  });
});

describe('a window booked ahead on a protected environment', () => {
  const book = async (days: number) =>
    start(maintenanceWindow, {
      extra: {
        duration: 'PT1H',
        at: new Date((await bed.temporal.currentTimeMs()) + days * 86_400_000).toISOString(),
      },
    });

  it('takes the approval in advance and opens at its time; an approval that no longer holds at the start is refused', async () => {
    const env = bed.env.config.environments[bed.env.name];
    const approvers = env.approvers;
    const { opened, refused, refusedStatus } = await withWorker(async () => {
      const approvedAhead = async (days: number) => {
        const h = await book(days);
        await awaitingApproval(h);
        await h.executeUpdate(approvalUpdates.approve, { args: [await signed(h, 'approve', 'bob')] });
        await waitForStatus(h, (s) => s.state === 'Booked' && !s.approval?.awaiting);
        return h;
      };
      const opened = (await (await approvedAhead(2)).result()) as unknown as WindowResult;
      const second = await approvedAhead(2);
      // Bob is no approver any more when its time comes (temporal.yaml changed meanwhile).
      env.approvers = ['carol'];
      try {
        const refused = (await second.result()) as unknown as WindowResult;
        await record('window-booked-approval-revoked.json', second.workflowId);
        return { opened, refused, refusedStatus: await second.query(statusQuery) };
      } finally {
        env.approvers = approvers;
      }
    });
    expect(opened.result).toBe('Succeeded');
    expect(refused.result).toBe('Rejected');
    expect(refusedStatus.approval?.decision).toMatchObject({
      kind: 'reject',
      by: 'policy',
      reason: expect.stringContaining(
        'bob, who approved it, is no longer an approver of contoso-sandbox (approvers: carol)',
      ),
    });
    const [entry] = await entity().history(1);
    expect(entry).toMatchObject({ result: 'Rejected' });
    expect(entry.detail).toMatch(/^refused at its start: bob, who approved it, is no longer an approver/);
    expect(bed.env.readFlag()).toBe(0);
  });

  it('a booking still unapproved at its time ends Rejected at once, not a day later', async () => {
    const { result, status } = await withWorker(async () => {
      const h = await book(1);
      await awaitingApproval(h);
      const r = (await h.result()) as unknown as WindowResult;
      return { result: r, status: await h.query(statusQuery) };
    });
    expect(result.result).toBe('Rejected');
    expect(status.approval?.deadline).toBe(status.booking?.startsAt);
  });
});
