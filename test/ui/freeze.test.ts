import { minutesFromNow } from '../helpers/freezes';
import { closedWorkflowPage, startFromForm, startWebUi, type WebUi } from '../helpers/web-ui';

/**
 * A change freeze refuses a start typed into the real Web UI's Start Workflow form (dev server,
 * headless Chromium): the workflow itself checks, not only the CLI. Screenshots go to test-artifacts/ui/.
 */
const FREEZE = {
  name: 'year-end',
  reason: 'Year-end close',
  start: minutesFromNow(-30),
  end: minutesFromNow(120),
  environments: ['contoso-sandbox'],
};

let ui: WebUi;
beforeAll(async () => {
  ui = await startWebUi({ freezes: [FREEZE] });
});
afterAll(async () => {
  await ui?.stop();
});

it('an enable started from the Start Workflow form during a freeze fails EnvironmentFrozen, naming the freeze and its end, and changes nothing', async () => {
  const before = await ui.e2e.observe();
  const page = await ui.newPage();
  await startFromForm(ui, page, {
    workflowId: 'ui-enable-frozen',
    workflowType: 'enableMaintenanceMode',
    input: JSON.stringify({ environment: 'contoso-sandbox', requestedBy: 'ui-operator', reason: 'hotfix' }),
    screenshot: 'ui-enable-frozen-form',
  });
  const { result } = await closedWorkflowPage(ui, page, 'ui-enable-frozen', 'Failed');
  expect(result).toContain('EnvironmentFrozen');
  // The Result panel shows the failure as JSON: the message with its quotes escaped.
  const message = `The enable did not start: contoso-sandbox is in the change freeze "year-end" (Year-end close), from ${FREEZE.start}:00.000Z until ${FREEZE.end}:00.000Z. Nothing was changed.`;
  expect(result).toContain(JSON.stringify(message).slice(1, -1));
  expect(await ui.e2e.observe()).toEqual(before);
  expect(JSON.parse((await ui.e2e.maint('history', 'contoso-sandbox', '--json')).stdout)).toEqual([]);
  await page.close();
});
