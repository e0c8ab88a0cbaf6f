#!/usr/bin/env node
/** Part of `npm run build`: bundles the workflow code once, so workers start without webpack. */
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE, workflowBundleOptions } from '../worker/create-worker';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    ...workflowBundleOptions(),
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  fs.mkdirSync(path.dirname(WORKFLOW_BUNDLE), { recursive: true });
  fs.writeFileSync(WORKFLOW_BUNDLE, code);
}

main().catch((err) => {
  process.stderr.write(
    `Bundling the workflows failed: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
