// The file facts of one gather share one `stat` (file.ts statPrelude): each must read exactly what
// it reads alone, whatever the paths look like, in dash as in bash.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { BACKUP_ROOT, type FileBackup } from '../../src/facts/backup-name.ts';
import { backupsFact, fileFact, fileInfoFact } from '../../src/facts/file.ts';
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
    // Only the full facts of regular files ran base64, and only those not read as text: the info
    // facts ran none.
    const contents = paths.flatMap((_, index) => {
      const value = (outcomes.get(full[index]!.id) as { value: { type?: string; content?: string } }).value;
      return value.type === 'file' ? [value.content ?? ''] : [];
    });
    t.is(calls(log), contents.filter((content) => !/^[\x20-\x7e\t\r\n]*$/.test(content)).length);
  });
}

// Bytes that must reach the planner unchanged, printable ASCII or not.
const SAMPLES: Readonly<Record<string, Buffer>> = {
  properties: Buffer.from('batm.vpn-skip=false\n# comment\tand tab\n'),
  'no final newline': Buffer.from('key=value'),
  crlf: Buffer.from('a=1\r\nb=2\r\n'),
  'an end line': Buffer.from('end\nend\n\n'),
  'only newlines': Buffer.from('\n\n'),
  empty: Buffer.alloc(0),
  'a NUL': Buffer.from('a=1\n\0b=2\n'),
  'a Latin-1 byte': Buffer.from([0x6b, 0x3d, 0xe9, 0x0a]),
  'UTF-8': Buffer.from('name=café\n'),
  'a control character': Buffer.from('a\u001ecasfleet-end x 0\n'),
  'vertical tab and form feed': Buffer.from('a=1\v\f\n'),
  'over 1536 bytes': Buffer.from(`${'k=v\n'.repeat(384)}x\n`),
  'over 64 KiB': Buffer.from(`${'k=v\n'.repeat(16 * 1024)}x\n`),
};

for (const shell of ['/bin/sh', '/bin/bash']) {
  test(`${shell}: file content arrives byte for byte; printable ASCII up to 64 KiB (bash) or 1536 bytes (dash) as text, without base64`, (t) => {
    const root = mkdtempSync(join(tmpdir(), 'casfleet-file-text-'));
    const facts = Object.entries(SAMPLES).map(([name, bytes]) => {
      writeFileSync(join(root, name), bytes);
      return fileFact(join(root, name));
    });
    const { dir, log } = countingTool('base64');
    const run = spawnSync(shell, ['-c', buildGatherScript(facts)], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
    const outcomes = parseGatherOutput(run.stdout, facts, run.stderr);
    Object.entries(SAMPLES).forEach(([name, bytes], index) => {
      const outcome = outcomes.get(facts[index]!.id);
      t.true(outcome?.ok, name);
      t.is(outcome?.ok ? (outcome.value as { content: string }).content : undefined, bytes.toString('latin1'), name);
    });
    const asText = ['properties', 'no final newline', 'crlf', 'an end line', 'only newlines', 'empty', 'vertical tab and form feed'];
    if (shell === '/bin/bash') asText.push('over 1536 bytes');
    t.is(calls(log), facts.length - asText.length);
  });
}

test('a text section must be printable ASCII of exactly the stat size', (t) => {
  const fact = fileFact('/etc/x');
  t.is((fact.parse('stat 0 0 644 4 root root regular file\ntext\na=1\n\nend\n') as { content: string }).content, 'a=1\n');
  t.is((fact.parse('stat 0 0 644 3 root root regular file\ntext\na=1\nend\n') as { content: string }).content, 'a=1');
  t.throws(() => fact.parse('stat 0 0 644 5 root root regular file\ntext\na=1\nend\n'), { message: /does not hold the file's 5 bytes/ });
  t.throws(() => fact.parse('stat 0 0 644 4 root root regular file\ntext\na=\u00e9\n\nend\n'), { message: /printable ASCII/ });
  t.throws(() => fileInfoFact('/etc/x').parse('stat 0 0 644 3 root root regular file\ntext\na=1\nend\n'), {
    message: /unexpected content section/,
  });
});

test('an info fact refuses a content section, a full fact requires one', (t) => {
  const info = fileInfoFact('/etc/x');
  const full = fileFact('/etc/x');
  t.throws(() => info.parse('stat 0 0 644 2 root root regular file\ncontent\nYQo=\nend\n'), { message: /unexpected content section/ });
  t.throws(() => full.parse('stat 0 0 644 2 root root regular file\nend\n'), { message: /without content section/ });
  t.deepEqual(info.parse('absent\nend\n'), { exists: false });
});

// A backup's name goes through printf, not echo: dash's echo would turn the `\n` of a name into a
// line break (a path may hold a backslash).
for (const shell of ['/bin/sh', '/bin/bash']) {
  test(`${shell}: a backup whose name holds a backslash is listed as it is`, (t) => {
    const root = mkdtempSync(join(tmpdir(), 'casfleet-backups-'));
    const path = '/etc/a\\nb.conf';
    const fact = backupsFact(path);
    mkdirSync(join(root, BACKUP_ROOT, 'etc'), { recursive: true });
    writeFileSync(join(root, BACKUP_ROOT, 'etc', 'a\\nb.conf.20261201T000000Z.0-0-644'), 'x');
    const run = spawnSync(shell, ['-c', buildGatherScript([fact]).replaceAll(BACKUP_ROOT, join(root, BACKUP_ROOT))], { encoding: 'utf8' });
    const outcome = parseGatherOutput(run.stdout, [fact], run.stderr).get(fact.id);
    const backups = outcome?.ok ? (outcome.value as readonly FileBackup[]) : [];
    t.deepEqual(
      backups.map((backup) => backup.timestamp),
      ['20261201T000000Z'],
      run.stdout,
    );
  });
}
