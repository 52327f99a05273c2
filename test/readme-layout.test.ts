// README's "Project layout" block names every folder of src/ and every top-level folder, and names
// nothing that does not exist, so the map a newcomer reads first stays true.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Installed or generated, never in the repository (.gitignore); hidden folders are tool configuration.
const NOT_SOURCE = new Set(['node_modules', 'dist', 'runs']);

/** The folder paths ("src/cli/", "test/lab/") the block lists: a path ending in "/" with space around it. */
const layoutFolders = (readme: string): string[] => {
  const block = /## Project layout\s*\n```\n([\s\S]*?)\n```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no "## Project layout" code block');
  return [...block.matchAll(/(?<=^|\s)((?:[a-z][\w-]*\/)+)(?=\s|$)/gm)].map((match) => match[1]!);
};

const folders = (dir: string, prefix: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.') && !NOT_SOURCE.has(entry.name))
    .map((entry) => `${prefix}${entry.name}/`);

const listed = layoutFolders(readFileSync(join(ROOT, 'README.md'), 'utf8'));

test('every top-level folder and every folder of src/ is in the README layout', (t) => {
  const actual = [...folders('.', ''), ...folders('src', 'src/')].filter((folder) => folder !== 'src/');
  t.deepEqual(actual.filter((folder) => !listed.includes(folder)).sort(), []);
});

test('every folder the README layout names exists', (t) => {
  t.deepEqual(
    listed.filter((folder) => !existsSync(join(ROOT, folder)) || !statSync(join(ROOT, folder)).isDirectory()),
    [],
  );
});

test('the layout parser finds column-aligned folders and ignores paths inside descriptions', (t) => {
  const readme = '## Project layout\n\n```\nsrc/cli/   argv (see src/x.ts)   test/       mirrors src/; test/lab/ e2e\nbin/ a/b c\n```\n';
  t.deepEqual(layoutFolders(readme), ['src/cli/', 'test/', 'test/lab/', 'bin/']);
});
