// The trust rule (OpenSSH StrictModes, git safe.directory) on its own, then on real files: another
// owner, group or world write access, a symlink someone else owns, a writable directory above.
// The real-file cases chown to uid 65534 (nobody), so they need root.
import { chmodSync, chownSync, lchownSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { TrustError } from '../../src/errors.ts';
import { chainProblem, entryProblem, type PathEntry } from '../../src/trust/trust-rule.ts';
import { assertTrustedPath, ensureTrustedDirectory, pathProblem, trustedOwners } from '../../src/trust/trusted-path.ts';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0 ? test : test.skip;

const entry = (path: string, kind: PathEntry['kind'], uid: number, mode: number): PathEntry => ({ path, kind, uid, mode });

test('owner: you or root; never group- or world-writable, except a root-owned sticky directory above', (t) => {
  const you = [1000, 0];
  t.is(entryProblem(entry('/home/op/c.mjs', 'file', 1000, 0o644), 'subject', you), undefined);
  t.is(entryProblem(entry('/etc/c.mjs', 'file', 0, 0o600), 'subject', you), undefined);
  t.is(entryProblem(entry('/tmp/c.mjs', 'file', 1001, 0o644), 'subject', you), 'is owned by uid 1001, not by you (uid 1000) or root');
  t.is(entryProblem(entry('/x/c.mjs', 'file', 1000, 0o664), 'subject', you), 'is writable by its group (mode 0664)');
  t.is(entryProblem(entry('/x/c.mjs', 'file', 1000, 0o646), 'subject', you), 'is writable by others (mode 0646)');
  t.is(entryProblem(entry('/tmp', 'directory', 0, 0o1777), 'ancestor', you), undefined, '/tmp above the file');
  t.regex(
    entryProblem(entry('/tmp', 'directory', 0, 0o1777), 'subject', you) ?? '',
    /writable by others/,
    '/tmp itself as a state directory',
  );
  t.regex(
    entryProblem(entry('/srv/x', 'directory', 1000, 0o1777), 'ancestor', you) ?? '',
    /writable by others/,
    'sticky but not root-owned',
  );
  t.regex(entryProblem(entry('/srv/x', 'directory', 0, 0o777), 'ancestor', you) ?? '', /writable by others/, 'world-writable, not sticky');
  t.is(entryProblem(entry('/x/link', 'symlink', 1000, 0o777), 'link', you), undefined, "a symlink's own mode is never used");
  t.is(entryProblem(entry('/x/link', 'symlink', 1001, 0o777), 'link', you), 'is owned by uid 1001, not by you (uid 1000) or root');
  t.is(entryProblem(entry('/x', 'file', 1001, 0o600), 'subject', [0]), 'is owned by uid 1001, not by root (you)');
});

test('the first problem names the component at fault', (t) => {
  const chain = [
    { entry: entry('/srv/ops/c.mjs', 'file', 0, 0o644), role: 'subject' as const },
    { entry: entry('/srv/ops', 'directory', 0, 0o775), role: 'ancestor' as const },
    { entry: entry('/srv', 'directory', 1001, 0o755), role: 'ancestor' as const },
  ];
  t.is(chainProblem(chain, [0]), 'the directory /srv/ops above it is writable by its group (mode 0775)');
  t.is(chainProblem(chain.slice(0, 1), [0]), undefined);
});

test('under sudo the user who ran it is trusted too, as git does; never for a non-root process', (t) => {
  t.deepEqual(trustedOwners({ SUDO_UID: '1000' }, 0), [0, 1000]);
  t.deepEqual(trustedOwners({ SUDO_UID: '1000' }, 1001), [1001, 0]);
  t.deepEqual(trustedOwners({ SUDO_UID: 'x' }, 0), [0]);
});

const scratch = (): string => mkdtempSync(join(tmpdir(), 'casfleet-trust-'));

asRoot('a file of yours in a private directory (under the sticky /tmp) is trusted', (t) => {
  const file = join(scratch(), 'ok.yaml');
  writeFileSync(file, 'forks: 1\n', { mode: 0o644 });
  t.is(pathProblem(file, 'file'), undefined);
  t.notThrows(() => assertTrustedPath(file, 'file', 'config file'));
});

asRoot('a file someone else owns is refused, naming the file and the owner', (t) => {
  const file = join(scratch(), 'planted.mjs');
  writeFileSync(file, 'export default {}\n');
  chownSync(file, NOBODY, NOBODY);
  const error = t.throws(() => assertTrustedPath(file, 'file', 'config file'), { instanceOf: TrustError });
  t.true(error?.message.startsWith(`refusing to use config file ${file}: it is owned by uid ${NOBODY}, not by root (you)`), error?.message);
});

asRoot('a group-writable file, or a file in a directory others can write to, is refused', (t) => {
  const dir = scratch();
  const file = join(dir, 'vars.yml');
  writeFileSync(file, 'a: 1\n');
  chmodSync(file, 0o664);
  t.is(pathProblem(file, 'file'), 'it is writable by its group (mode 0664)');
  chmodSync(file, 0o644);
  chmodSync(dir, 0o777);
  t.is(pathProblem(file, 'file'), `the directory ${dir} above it is writable by others (mode 0777)`);
});

asRoot('a symlink someone else owns is refused even when it points at a good file; so is a good link to a bad file', (t) => {
  const dir = scratch();
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'forks: 1\n');
  const theirs = join(dir, 'theirs.yaml');
  symlinkSync(good, theirs);
  lchownSync(theirs, NOBODY, NOBODY);
  t.regex(pathProblem(theirs, 'file') ?? '', /^the symbolic link .*theirs\.yaml on its path is owned by uid 65534/);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'forks: 1\n');
  chownSync(bad, NOBODY, NOBODY);
  const mine = join(dir, 'mine.yaml');
  symlinkSync(bad, mine);
  t.regex(pathProblem(mine, 'file') ?? '', /^it is owned by uid 65534/);
});

asRoot('a directory where a file is expected is refused; a missing file is left to the caller', (t) => {
  const dir = scratch();
  t.is(pathProblem(dir, 'file'), 'it is a directory, not a regular file');
  t.notThrows(() => assertTrustedPath(join(dir, 'missing.yaml'), 'file', 'vars file'));
});

asRoot('a directory casfleet creates is checked above first, then created 0700', (t) => {
  const dir = scratch();
  const inside = join(dir, 'state', 'runs');
  ensureTrustedDirectory(inside, 'the run-record folder');
  t.is(pathProblem(inside, 'directory'), undefined);
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  t.throws(() => ensureTrustedDirectory(join(open, 'state'), 'the state directory'), {
    instanceOf: TrustError,
    message: new RegExp(`^refusing to use the parent directory of the state directory ${open}: it is writable by others`),
  });
});
