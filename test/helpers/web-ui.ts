import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { startEndToEnd, type EndToEnd } from './e2e';
import type { TestEnvironmentOptions } from './environment';
import { freePort } from './temporal';
import { waitForClose } from './status';

/**
 * An operator in front of the dev server's real Web UI (Temporal UI 2.54.1), in headless Chromium:
 * the Start Workflow form, the workflow page and its Send a Signal dialog, as a person clicks and
 * pastes. Screenshots go to test-artifacts/ui/.
 */
const ARTIFACTS = path.resolve(__dirname, '../../test-artifacts/ui');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface WebUi {
  e2e: EndToEnd;
  /** A browser tab of the size the screenshots are taken at. */
  newPage(): Promise<Page>;
  /** Opens `where` in the Web UI, in the default namespace (`workflows/<id>`, `workflows/start-workflow`). */
  open(page: Page, where: string): Promise<void>;
  screenshot(page: Page, name: string): Promise<void>;
  stop(): Promise<void>;
}

/** The real dev server with its Web UI on a free port, a fleet and a worker (see startEndToEnd), and Chromium. */
export async function startWebUi(options: TestEnvironmentOptions = {}): Promise<WebUi> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const uiPort = await freePort();
  const e2e = await startEndToEnd(options, { uiPort });
  const browser: Browser = await chromium
    .launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
    .catch(async (err: unknown) => {
      await e2e.stop();
      throw err;
    });
  return {
    e2e,
    newPage: () => browser.newPage({ viewport: { width: 1400, height: 1100 } }),
    async open(page, where) {
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/${where}`);
    },
    async screenshot(page, name) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
    },
    async stop() {
      await browser.close();
      await e2e.stop();
    },
  };
}

/** Pastes `text` into a JSON editor of the UI (CodeMirror) as a paste would: no auto-closed brackets. */
async function paste(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click();
  await page.keyboard.insertText(text);
}

/**
 * Fills and submits the Start Workflow form, then follows the toast's link to the new workflow's
 * page, as an operator does.
 */
export async function startFromForm(
  ui: WebUi,
  page: Page,
  {
    workflowId,
    workflowType,
    input,
    screenshot,
  }: { workflowId: string; workflowType: string; input: string; screenshot: string },
): Promise<void> {
  await ui.open(page, 'workflows/start-workflow');
  await page.getByTestId('workflowId').fill(workflowId);
  await page.getByTestId('taskQueue').fill(ui.e2e.env.config.temporal.taskQueue);
  await page.getByTestId('workflowType').fill(workflowType);
  await paste(page, page.locator('.cm-content').first(), input);
  // Leaving the editor reformats the JSON and moves the button: leave it first, then click.
  await page.getByRole('heading', { name: 'Start Workflow' }).click();
  await ui.screenshot(page, screenshot);
  await page.getByTestId('start-workflow-button').click();
  await page.getByRole('link', { name: 'Workflow started successfully' }).click();
  await page.waitForURL(new RegExp(`/workflows/${workflowId}/`));
}

/**
 * On the open workflow page: More Actions, Send a Signal, the signal picked from those the workflow
 * describes, `input` pasted as its data, Submit; resolves once the UI says it was sent.
 */
export async function sendSignal(
  ui: WebUi,
  page: Page,
  { name, input, screenshot }: { name: string; input: string; screenshot: string },
): Promise<void> {
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
  await dialog.getByRole('button', { name: 'Select a signal' }).click();
  await dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) }).click();
  await paste(page, dialog.getByRole('textbox', { name: 'Data' }), input);
  // As on the Start Workflow form: leave the editor (it reformats and grows) before Submit moves.
  // Not on the dialog's title: a click there closes the dialog.
  await dialog.getByRole('heading', { name: 'Input' }).click();
  await ui.screenshot(page, screenshot);
  await dialog.getByRole('button', { name: 'Submit' }).click();
  await page.getByText('Workflow signaled.').first().waitFor();
}

/**
 * The workflow page once the workflow has closed with `status`: the Result panel's text (the
 * failure with its type for a failed one), and the page's text.
 */
export async function closedWorkflowPage(
  ui: WebUi,
  page: Page,
  workflowId: string,
  status: 'Completed' | 'Failed',
): Promise<{ result: string; text: string }> {
  const handle = ui.e2e.temporal.client.workflow.getHandle(workflowId);
  await waitForClose(handle);
  await ui.open(page, `workflows/${workflowId}`);
  await page.getByText(status, { exact: true }).first().waitFor();
  // The Result editor draws only the lines in view: go to its end so that all of them are drawn.
  const result = page.getByRole('textbox', { name: 'Result' });
  await result.click();
  await page.keyboard.press('Control+End');
  await ui.screenshot(page, `${workflowId}-${status.toLowerCase()}`);
  return { result: await result.innerText(), text: await page.locator('body').innerText() };
}

/**
 * The workflow page's Current Details (User Metadata tab, Markdown the UI renders in a frame of its
 * own), once they contain `expected`.
 */
export async function currentDetails(
  ui: WebUi,
  page: Page,
  workflowId: string,
  expected: string,
): Promise<string> {
  await ui.open(page, `workflows/${workflowId}`);
  await page.getByRole('tab', { name: 'User Metadata' }).click();
  const details = page.frameLocator('#user-metadata-current-details').locator('body');
  await details.getByText(expected).first().waitFor();
  await ui.screenshot(page, `${workflowId}-current-details`);
  return details.innerText();
}
