import fs from 'node:fs';
import path from 'node:path';
import { BUNDLE_ENV } from './helpers/temporal';

/** Removes the workflow bundle of this jest run (see global-setup.ts). */
export default function globalTeardown(): void {
  const file = process.env[BUNDLE_ENV];
  if (file) fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
