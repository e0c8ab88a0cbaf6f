import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
// Not bench/ (nor test/): benchmarks, like tests, start the reference environment they measure.
const SOURCE_DIRS = [
  'activities',
  'client',
  'config',
  'contract',
  'drivers',
  'scripts',
  'worker',
  'workflows',
];

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

describe('drivers are plug-ins', () => {
  it('nothing outside drivers/fleet/ imports the reference environment (fleet/)', () => {
    const offenders = SOURCE_DIRS.flatMap(sources)
      .filter((file) => !file.startsWith(path.join('drivers', 'fleet')))
      .filter((file) => /from '(\.\.\/)+fleet\//.test(fs.readFileSync(path.join(root, file), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
