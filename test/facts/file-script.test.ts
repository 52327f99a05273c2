// The file facts of one gather share one `stat` (file.ts statPrelude): each must read exactly what
// it reads alone, whatever the paths look like, in dash as in bash.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { fileFact, fileInfoFact } from '../../src/facts/file.ts';
import { buildGatherScript, parseGatherOutput } from '../../src/facts/gather-script.ts';

// Paths chosen to trip a lookup by text: one is the tail of another's record ("…/path <dir>/a"),
// quotes, spaces, glob characters, a symlink, a directory, an absent file.
const tree = (): string[] => {
  const root = mkdtempSync(join(tmpdir(), 'casfleet-file-script-'));
  // <root>/x/path <root>/a: its record's path line ends with "path <root>/a".
  const tricky = join(root, 'x', `path ${root}`);
  mkdirSync(tricky, { recursive: true });
  writeFileSync(join(tricky, 'a'), 'not a\n');
  writeFileSync(join(root, 'a'), 'key=value\n');
  writeFileSync(join(root, "it's [a] *file*"), Buffer.from([0xe9, 0x0d, 0x0a, 0x00, 0xff]));
  writeFileSync(join(root, 'empty'), '');
  chmodSync(join(root, 'a'), 0o640);
  symlinkSync('a', join(root, 'link'));
  return [
    join(tricky, 'a'),
    tricky,
    join(root, 'a'),
    join(root, "it's [a] *file*"),
    join(root, 'empty'),
    join(root, 'link'),
    join(root, 'x'),
    join(root, 'absent'),
  ];
};

// A tool (stat, base64) on the PATH that logs each call, so the test sees how many processes the gather ran.
const countingTool = (name: string): { dir: string; log: string } => {
  const dir = mkdtempSync(join(tmpdir(), `casfleet-${name}-count-`));
  const log = join(dir, 'calls');
  writeFileSync(join(dir, name), `#!/bin/sh\necho call >> '${log}'\nexec /usr/bin/${name} "$@"\n`);
  chmodSync(join(dir, name), 0o755);
  return { dir, log };
};

const calls = (log: string): number => {
  const result = spawnSync('cat', [log], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.split('\n').filter(Boolean).length : 0;
};

for (const shell of ['/bin/sh', '/bin/bash']) {
  test(`${shell}: file facts read through the shared stat equal each fact read alone, with one stat for all`, (t) => {
    const facts = tree().map(fileFact);
    const { dir, log } = countingTool('stat');
    const env = { PATH: `${dir}:/usr/bin:/bin` };
    const together = spawnSync(shell, ['-c', buildGatherScript(facts)], { encoding: 'utf8', env });
    const outcomes = parseGatherOutput(together.stdout, facts, together.stderr);
    t.is(calls(log), 1);
    for (const fact of facts) {
      const alone = spawnSync(shell, ['-c', fact.script], { encoding: 'utf8', env });
      const outcome = outcomes.get(fact.id);
      t.true(outcome?.ok, fact.id);
      t.deepEqual(outcome?.ok ? outcome.value : undefined, fact.parse(alone.stdout), fact.id);
    }
    t.is(calls(log), 1 + facts.filter((fact) => !fact.id.endsWith('/absent')).length);
  });
}

for (const shell of ['/bin/sh', '/bin/bash']) {
  test(`${shell}: the info fact is the file fact without its content, and reads no content`, (t) => {
    const paths = tree();
    const full = paths.map(fileFact);
    const info = paths.map(fileInfoFact);
    const { dir, log } = countingTool('base64');
    const env = { PATH: `${dir}:/usr/bin:/bin` };
    const run = spawnSync(shell, ['-c', buildGatherScript([...info, ...full])], { encoding: 'utf8', env });
    const outcomes = parseGatherOutput(run.stdout, [...info, ...full], run.stderr);
    paths.forEach((path, index) => {
      const whole = outcomes.get(full[index]!.id);
      const bare = outcomes.get(info[index]!.id);
      t.true(whole?.ok && bare?.ok, path);
      if (!whole?.ok || !bare?.ok) return;
      const { content: _content, ...rest } = whole.value as { content?: unknown };
      t.deepEqual(bare.value, rest, path);
    });
    // Only the full facts of regular files ran base64: the info facts ran none.
    t.is(
      calls(log),
      paths.filter((_, index) => (outcomes.get(full[index]!.id) as { value: { type?: string } }).value.type === 'file').length,
    );
  });
}

test('an info fact refuses a content section, a full fact requires one', (t) => {
  const info = fileInfoFact('/etc/x');
  const full = fileFact('/etc/x');
  t.throws(() => info.parse('stat 0 0 644 2 root root regular file\ncontent\nYQo=\nend\n'), { message: /unexpected content section/ });
  t.throws(() => full.parse('stat 0 0 644 2 root root regular file\nend\n'), { message: /without content section/ });
  t.deepEqual(info.parse('absent\nend\n'), { exists: false });
});
