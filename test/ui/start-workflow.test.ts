import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startEndToEnd, type EndToEnd } from '../helpers/e2e';
import { freePort } from '../helpers/temporal';

/**
 * An operator's path through the real Web UI of the dev server, in headless Chromium: the Start
 * Workflow form, then the workflow page. Screenshots go to test-artifacts/ui/.
 */
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/ui');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let e2e: EndToEnd;
let ui: string;
let browser: Browser;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const uiPort = await freePort();
  e2e = await startEndToEnd({}, { uiPort });
  ui = `http://127.0.0.1:${uiPort}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => {
  await browser?.close();
  await e2e?.stop();
});

async function startFromForm(
  page: Page,
  workflowId: string,
  workflowType: string,
  input: string,
): Promise<void> {
  await page.goto(`${ui}/namespaces/default/workflows/start-workflow`);
  await page.getByTestId('workflowId').fill(workflowId);
  await page.getByTestId('taskQueue').fill(e2e.env.config.temporal.taskQueue);
  await page.getByTestId('workflowType').fill(workflowType);
  await page.locator('.cm-content').first().click();
  await page.keyboard.insertText(input); // as pasted: no editor auto-closing of brackets
  // Leaving the editor reformats the JSON and moves the button: leave it first, then click.
  await page.getByRole('heading', { name: 'Start Workflow' }).click();
  await page.screenshot({ path: path.join(ARTIFACTS, `${workflowId}-form.png`), fullPage: true });
  await page.getByTestId('start-workflow-button').click();
  // The toast links to the new workflow's page, where an operator follows it.
  await page.getByRole('link', { name: 'Workflow started successfully' }).click();
  await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
}

async function workflowPage(page: Page, workflowId: string, status: 'Completed' | 'Failed'): Promise<string> {
  await e2e.temporal.client.workflow
    .getHandle(workflowId)
    .result()
    .catch(() => undefined);
  await page.reload();
  await page.getByText(status, { exact: true }).first().waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, `${workflowId}-page.png`), fullPage: true });
  return page.locator('body').innerText();
}

it('starts enableMaintenanceMode from the Start Workflow form, sees it complete, and the environment is in maintenance', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const input = JSON.stringify({
    environment: 'contoso-sandbox',
    requestedBy: 'ui-operator',
    reason: 'from the Web UI',
  });
  await startFromForm(page, 'ui-enable', 'enableMaintenanceMode', input);
  const text = await workflowPage(page, 'ui-enable', 'Completed');
  expect(text).toContain('ui-enable');
  expect(text).toContain('enableMaintenanceMode');

  expect(await e2e.observe()).toEqual({ flag: 1, running: ['aos-1 (maintenance)', 'aos-4 (maintenance)'] });
  const status = JSON.parse((await e2e.maint('status', 'contoso-sandbox', '--json')).stdout);
  expect(status).toMatchObject({
    state: 'InMaintenance',
    operation: { workflowId: 'ui-enable', status: { requestedBy: 'ui-operator' } },
  });

  await page.goto(
    `${ui}/namespaces/default/workflows?query=${encodeURIComponent('MaintenanceState = "InMaintenance"')}`,
  );
  await page.getByText('ui-enable').first().waitFor();
  await page.screenshot({ path: path.join(ARTIFACTS, 'list-filtered-by-state.png'), fullPage: true });
  await page.close();
});

it('fails a mistyped input from the form with the same message the CLI gives, and changes nothing', async () => {
  const before = await e2e.observe();
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  await startFromForm(
    page,
    'ui-typo',
    'disableMaintenanceMode',
    '{"enviroment": "contoso-sandbox", "requestedBy": "ui-operator"}',
  );
  const text = await workflowPage(page, 'ui-typo', 'Failed');
  expect(text).toMatch(/Invalid input for disableMaintenanceMode/);
  expect(await e2e.observe()).toEqual(before);
  await page.close();
  expect((await e2e.maint('disable', 'contoso-sandbox', '-u', 'cleanup')).code).toBe(0);
});
