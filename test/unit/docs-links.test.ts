import fs from 'node:fs';
import path from 'node:path';

/** The README and the docs/ pages: every link between them (a file, and a heading in it) must resolve. */
const root = path.resolve(__dirname, '../..');
const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).map((f) => `docs/${f}`)].filter((f) =>
  f.endsWith('.md'),
);

/** The text without code (fenced blocks and inline spans), where brackets are not links. */
const withoutCode = (md: string) => md.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes. */
function anchorsOf(md: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of md.replace(/```[\s\S]*?```/g, '').split('\n')) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (!heading) continue;
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    let anchor = base;
    for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
    anchors.add(anchor);
  }
  return anchors;
}

function linksOf(file: string): { target: string; line: number }[] {
  const text = withoutCode(fs.readFileSync(path.join(root, file), 'utf8'));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => ({ target: m[1], line: text.slice(0, m.index).split('\n').length }))
    .filter(({ target }) => !/^(https?|mailto):/.test(target));
}

describe('links of the README and docs/', () => {
  it('has pages to check, and the README links each docs page', () => {
    expect(pages.length).toBeGreaterThan(5);
    const fromReadme = new Set(linksOf('README.md').map((l) => path.normalize(l.target.split('#')[0])));
    for (const page of pages.filter((p) => p.startsWith('docs/'))) expect(fromReadme).toContain(page);
  });

  it.each(pages)('%s: every link resolves to a file, and its #anchor to a heading there', (page) => {
    const broken = linksOf(page).flatMap(({ target, line }) => {
      const [file, anchor] = target.split('#');
      const resolved = file ? path.join(path.dirname(page), file) : page;
      if (!fs.existsSync(path.join(root, resolved))) return [`line ${line}: ${target} (no such file)`];
      if (anchor === undefined || !resolved.endsWith('.md')) return [];
      const anchors = anchorsOf(fs.readFileSync(path.join(root, resolved), 'utf8'));
      return anchors.has(anchor) ? [] : [`line ${line}: ${target} (no heading #${anchor} in ${resolved})`];
    });
    expect(broken).toEqual([]);
  });
});
