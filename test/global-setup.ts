import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowBundleOptions } from '../worker/create-worker';
import { BUNDLE_ENV } from './helpers/temporal';

/**
 * Bundles the workflow code once for the whole jest run, from the sources as they are now: webpack
 * takes seconds of CPU, which every test file that runs a worker paid again. The test files' processes
 * inherit the bundle's path (helpers/temporal.ts `workflowBundle`).
 */
export default async function globalSetup(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    ...workflowBundleOptions(),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'maintenance-workflows-'));
  const file = path.join(folder, 'workflow-bundle.js');
  fs.writeFileSync(file, code);
  process.env[BUNDLE_ENV] = file;
}
