import { closedWorkflowPage, startFromForm, startWebUi, type WebUi } from '../helpers/web-ui';

/**
 * An operator's path through the real Web UI of the dev server, in headless Chromium: the Start
 * Workflow form, then the workflow page. Screenshots go to test-artifacts/ui/.
 */
let ui: WebUi;
beforeAll(async () => {
  ui = await startWebUi();
});
afterAll(async () => {
  await ui?.stop();
});

it('starts enableMaintenanceMode from the Start Workflow form, sees it complete, and the environment is in maintenance', async () => {
  const page = await ui.newPage();
  const input = JSON.stringify({
    environment: 'contoso-sandbox',
    requestedBy: 'ui-operator',
    reason: 'from the Web UI',
  });
  await startFromForm(ui, page, {
    workflowId: 'ui-enable',
    workflowType: 'enableMaintenanceMode',
    input,
    screenshot: 'ui-enable-form',
  });
  const { text } = await closedWorkflowPage(ui, page, 'ui-enable', 'Completed');
  expect(text).toContain('ui-enable');
  expect(text).toContain('enableMaintenanceMode');

  expect(await ui.e2e.observe()).toEqual({
    flag: 1,
    running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'],
  });
  const status = JSON.parse((await ui.e2e.maint('status', 'contoso-sandbox', '--json')).stdout);
  expect(status).toMatchObject({
    state: 'InMaintenance',
    operation: { workflowId: 'ui-enable', status: { requestedBy: 'ui-operator' } },
  });

  await ui.open(page, `workflows?query=${encodeURIComponent('MaintenanceState = "InMaintenance"')}`);
  await page.getByText('ui-enable').first().waitFor();
  await ui.screenshot(page, 'list-filtered-by-state');
  await page.close();
});

it('fails a mistyped input from the form with the same message the CLI gives, and changes nothing', async () => {
  const before = await ui.e2e.observe();
  const page = await ui.newPage();
  await startFromForm(ui, page, {
    workflowId: 'ui-typo',
    workflowType: 'disableMaintenanceMode',
    input: '{"enviroment": "contoso-sandbox", "requestedBy": "ui-operator"}',
    screenshot: 'ui-typo-form',
  });
  const { result } = await closedWorkflowPage(ui, page, 'ui-typo', 'Failed');
  expect(result).toMatch(/Invalid input for disableMaintenanceMode/);
  expect(await ui.e2e.observe()).toEqual(before);
  await page.close();
  expect((await ui.e2e.maint('disable', 'contoso-sandbox', '-u', 'cleanup')).code).toBe(0);
});
