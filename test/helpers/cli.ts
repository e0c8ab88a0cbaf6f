import { execFile } from 'node:child_process';
import path from 'node:path';

const CLI = path.resolve(__dirname, '../../dist/client/cli.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the operator CLI as a user would: a separate process, built code, exit code and output.
 * `script` runs another build of it (the previous release's, in the upgrade test).
 */
export function cli(
  configFile: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  script = CLI,
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, '--config', configFile, ...args],
      { env: { ...process.env, ...env }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
