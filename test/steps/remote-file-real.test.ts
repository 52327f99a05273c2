// The file-changing shell (remote-file.ts) run for real inside the scratch namespace, whose
// /var/backups is a private copy: propertiesKey writes atomically and keeps owner/group/mode and
// every other byte, makes a root-only backup and refuses a file that changed after its facts were
// read; fileAbsent then fileRestored round-trip a file with its metadata. Then what it refuses: a
// backup tree that is a symlink or someone else's, a backup that is not casfleet's own, an owner
// that is not a system or batm account, and content that did not arrive whole.

import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { partsInFrame, type StdinParts, stdinText } from '../../src/command/stdin-parts.ts';
import { backupsFact, fileFact } from '../../src/facts/file.ts';
import { fileAbsent } from '../../src/steps/file-absent.ts';
import { fileRestored } from '../../src/steps/file-restored.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
import { trustedBackupDir } from '../../src/steps/remote-file.ts';
import type { Step } from '../../src/steps/step.ts';
import { createUfwScratch, scratchUnavailable, type UfwScratch } from './ufw-scratch.ts';

const unavailable = scratchUnavailable();
const realTest = unavailable ? test.skip : test.serial;
const suffix = unavailable ? ` (skipped: ${unavailable})` : '';

let scratch: UfwScratch | undefined;
let dir = '';

test.before(() => {
  if (unavailable) return;
  scratch = createUfwScratch();
  dir = mkdtempSync(join(tmpdir(), 'casfleet-files-'));
});

test.after.always(() => {
  scratch?.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const gatherAll = (s: UfwScratch, step: Step): Record<string, unknown> =>
  Object.fromEntries(Object.entries(step.facts).map(([key, fact]) => [key, s.gather(fact)]));

const apply = (s: UfwScratch, step: Step) => {
  const plan = step.plan(gatherAll(s, step));
  const results = plan.changes.map((change) => s.run(change.command.script, change.stdin));
  return { plan, results };
};

const ORIGINAL = '# gate\r\nbatm.processing-slots=20\r\nbatm.vpn-skip = false\r\nname=caf\xe9';

realTest(`propertiesKey writes atomically, keeps metadata and bytes, backs up root-only, then is a no-op${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const path = join(dir, 'gate.properties');
  writeFileSync(path, Buffer.from(ORIGINAL, 'latin1'));
  chownSync(path, 1001, 1002);
  chmodSync(path, 0o640);
  const step = propertiesKey({ file: path, key: 'batm.vpn-skip', value: true });
  const { plan, results } = apply(s, step);
  t.is(plan.changes.length, 1);
  t.is(results[0]?.code, 0, results[0]?.stderr);
  t.is(readFileSync(path).toString('latin1'), ORIGINAL.replace('skip = false', 'skip = true'));
  const stat = statSync(path);
  t.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [1001, 1002, '640']);
  const backupDir = join(s.dir, 'backups', 'casfleet', dir);
  const backups = s.gather(backupsFact(path));
  t.is(backups.length, 1);
  t.deepEqual([backups[0]?.uid, backups[0]?.gid, backups[0]?.mode], [1001, 1002, '640']);
  const backupFile = join(backupDir, backups[0]?.path.split('/').pop() ?? '');
  t.is(readFileSync(backupFile).toString('latin1'), ORIGINAL);
  t.is((statSync(backupFile).mode & 0o777).toString(8), '600');
  t.is((statSync(join(s.dir, 'backups', 'casfleet')).mode & 0o777).toString(8), '700');
  t.deepEqual(apply(s, step).plan.changes, [], 'second run changes nothing');
});

// In the exec chain the content is a variable of the frame (command/stdin-parts.ts), nothing on stdin.
realTest(`in a chained frame the write takes its content from the frame: plain text and base64 alike${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  for (const [name, before, key] of [
    ['plain.properties', 'a=1\nk=1\n', 'k'],
    ['latin1.properties', ORIGINAL, 'batm.vpn-skip'],
  ] as const) {
    const path = join(dir, name);
    writeFileSync(path, Buffer.from(before, 'latin1'));
    const step = propertiesKey({ file: path, key, value: true });
    const change = step.plan(gatherAll(s, step)).changes[0]!;
    const stdin = change.stdin as StdinParts;
    t.is(stdin.parts.length, 1);
    const result = s.run(`${partsInFrame(stdin)}${change.command.script}`, '');
    t.is(result.code, 0, result.stderr);
    const want = key === 'k' ? 'a=1\nk=true\n' : ORIGINAL.replace('skip = false', 'skip = true');
    t.is(readFileSync(path).toString('latin1'), want, name);
    t.deepEqual(apply(s, step).plan.changes, [], `${name}: then a no-op`);
  }
});

realTest(`the write refuses a file that changed after its facts were read${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const path = join(dir, 'changed.properties');
  writeFileSync(path, 'k=1\n');
  const step = propertiesKey({ file: path, key: 'k', value: 2 });
  const plan = step.plan(gatherAll(s, step));
  writeFileSync(path, 'k=1\nedited=by someone\n');
  const result = s.run(plan.changes[0]?.command.script ?? '', plan.changes[0]?.stdin);
  t.is(result.code, 3);
  t.regex(result.stderr, /changed since its facts were read/);
  t.is(readFileSync(path, 'utf8'), 'k=1\nedited=by someone\n');
  t.deepEqual(s.gather(backupsFact(path)), [], 'no backup of a file it refuses to touch');
  t.deepEqual(
    readdirSync(join(backupRoot(s), dir)).filter((name) => name.includes('changed.properties')),
    [],
    'nor its temp file',
  );
});

realTest(`a backup temp file that a killed run of the same PID left is replaced, not written through${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const path = join(dir, 'stale.properties');
  writeFileSync(path, 'k=1\n');
  const step = propertiesKey({ file: path, key: 'k', value: 2 });
  const change = step.plan(gatherAll(s, step)).changes[0];
  // The script's own PID names the temp file: a prefix in the same shell leaves one there first,
  // a hard link to a file elsewhere, as if the tree had been tampered with by root.
  const elsewhere = join(dir, 'elsewhere.txt');
  writeFileSync(elsewhere, 'not a backup\n');
  const stale = `${join(backupRoot(s), dir)}/.stale.properties.casfleet.$$`;
  const result = s.run(
    `mkdir -p -- ${join(backupRoot(s), dir)} && ln -f -- ${elsewhere} "${stale}"\n${change?.command.script ?? ''}`,
    change?.stdin,
  );
  t.is(result.code, 0, result.stderr);
  t.is(readFileSync(path, 'utf8'), 'k=2\n');
  t.is(readFileSync(elsewhere, 'utf8'), 'not a backup\n', 'the linked file is not overwritten');
  const backups = s.gather(backupsFact(path));
  t.is(backups.length, 1);
  t.is(readFileSync(join(backupRoot(s), dir, backups[0]?.path.split('/').pop() ?? ''), 'utf8'), 'k=1\n');
  t.deepEqual(
    readdirSync(join(backupRoot(s), dir)).filter((name) => name.startsWith('.stale.properties')),
    [],
    'no temp file left',
  );
});

realTest(`a temp file name someone planted next to the target is never opened: mktemp makes another${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const path = join(dir, 'planted.properties');
  writeFileSync(path, 'k=1\n');
  chmodSync(path, 0o640);
  const step = propertiesKey({ file: path, key: 'k', value: 2 });
  const change = step.plan(gatherAll(s, step)).changes[0];
  // The script's own PID names the temp file: a prefix in the same shell plants a symlink under it,
  // pointing at a file the write must not reach.
  const elsewhere = join(dir, 'planted-target.txt');
  writeFileSync(elsewhere, 'not gate.properties\n');
  const planted = join(dir, '.planted.properties.casfleet.$$');
  const result = s.run(`ln -s -- ${elsewhere} "${planted}"\n${change?.command.script ?? ''}`, change?.stdin);
  t.is(result.code, 0, result.stderr);
  t.is(readFileSync(path, 'utf8'), 'k=2\n');
  t.is(statSync(path).mode & 0o7777, 0o640, 'the mode the file had');
  t.is(readFileSync(elsewhere, 'utf8'), 'not gate.properties\n', 'the symlinked file is not written through');
  const left = readdirSync(dir).filter((name) => name.startsWith('.planted.properties.casfleet.'));
  t.is(left.length, 1, 'only the planted name is left');
  t.true(lstatSync(join(dir, left[0] ?? '')).isSymbolicLink());
  rmSync(join(dir, left[0] ?? ''));
});

realTest(`fileAbsent backs up and removes; fileRestored puts it back with owner, group and mode${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const path = join(dir, 'vpn');
  writeFileSync(path, 'vpn config\n');
  chownSync(path, 2, 3); // system accounts (bin, sys): a restore gives back only system or batm ownership
  chmodSync(path, 0o604);
  const absent = fileAbsent({ path });
  t.is(apply(s, absent).results[0]?.code, 0);
  t.false(s.gather(fileFact(path)).exists);
  t.deepEqual(apply(s, absent).plan.changes, []);
  const restored = fileRestored({ path });
  const { results } = apply(s, restored);
  t.is(results[0]?.code, 0, results[0]?.stderr);
  t.is(readFileSync(path, 'utf8'), 'vpn config\n');
  const stat = statSync(path);
  t.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [2, 3, '604']);
  t.deepEqual(apply(s, restored).plan.changes, []);
});

realTest(`in a setgid directory, where mktemp gives the temp file the directory's group, the file keeps its own${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const setgid = join(dir, 'setgid');
  mkdirSync(setgid);
  chownSync(setgid, 0, 1002);
  chmodSync(setgid, 0o2755);
  const path = join(setgid, 'root.properties');
  writeFileSync(path, 'k=1\n');
  chownSync(path, 0, 0);
  chmodSync(path, 0o644);
  const written = apply(s, propertiesKey({ file: path, key: 'k', value: 2 })).results[0];
  t.is(written?.code, 0, written?.stderr);
  t.is(readFileSync(path, 'utf8'), 'k=2\n');
  let stat = statSync(path);
  t.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [0, 0, '644']);
  t.is(apply(s, fileAbsent({ path })).results[0]?.code, 0);
  const restored = apply(s, fileRestored({ path })).results[0];
  t.is(restored?.code, 0, restored?.stderr);
  stat = statSync(path);
  t.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [0, 0, '644']);
});

// ---- refusals ----------------------------------------------------------------------------------------

const backupRoot = (s: UfwScratch): string => join(s.dir, 'backups', 'casfleet');

// Each refusal test starts from a fresh backup tree in the scratch's private /var/backups.
const resetBackups = (s: UfwScratch): void => rmSync(backupRoot(s), { recursive: true, force: true });

realTest(`a backup root that is a symlink is refused and nothing is written through it${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  const elsewhere = mkdtempSync(join(tmpdir(), 'casfleet-elsewhere-'));
  symlinkSync(elsewhere, backupRoot(s));
  const path = join(dir, 'linked.properties');
  writeFileSync(path, 'k=1\n');
  const { results } = apply(s, propertiesKey({ file: path, key: 'k', value: 2 }));
  t.is(results[0]?.code, 3);
  t.regex(results[0]?.stderr ?? '', /\/var\/backups\/casfleet is a symbolic link; refusing to keep or read backups through it/);
  t.is(readFileSync(path, 'utf8'), 'k=1\n');
  t.deepEqual(readdirSync(elsewhere), []);
  rmSync(backupRoot(s));
});

realTest(`a backup root owned by another user, or a directory below it that is a symlink, is refused${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  mkdirSync(backupRoot(s), { mode: 0o700 });
  chownSync(backupRoot(s), 65534, 65534);
  const path = join(dir, 'owned.properties');
  writeFileSync(path, 'k=1\n');
  const step = propertiesKey({ file: path, key: 'k', value: 2 });
  let result = apply(s, step).results[0];
  t.is(result?.code, 3);
  t.regex(result?.stderr ?? '', /\/var\/backups\/casfleet is owned by uid 65534, not root/);
  chownSync(backupRoot(s), 0, 0);
  const elsewhere = mkdtempSync(join(tmpdir(), 'casfleet-elsewhere-'));
  symlinkSync(elsewhere, join(backupRoot(s), dir.split('/')[1]!));
  result = apply(s, step).results[0];
  t.is(result?.code, 3);
  t.regex(result?.stderr ?? '', /is a symbolic link; refusing/);
  t.is(readFileSync(path, 'utf8'), 'k=1\n');
  t.deepEqual(readdirSync(elsewhere), []);
});

realTest(
  `a restore refuses a backup that is a symlink, not root-only, or records an owner that is not a system or batm account${suffix}`,
  (t) => {
    const s = scratch as UfwScratch;
    resetBackups(s);
    const path = join(dir, 'restored-vpn');
    writeFileSync(path, 'vpn\n');
    t.is(apply(s, fileAbsent({ path })).results[0]?.code, 0);
    const [backup] = s.gather(backupsFact(path));
    const onDisk = join(s.dir, 'backups', backup!.path.slice('/var/backups/'.length));
    const restored = fileRestored({ path });

    // Not root-only: someone else could have written it.
    chmodSync(onDisk, 0o644);
    let result = apply(s, restored).results[0];
    t.is(result?.code, 3);
    t.regex(result?.stderr ?? '', /is not a root-only \(0600, one link\) casfleet backup/);
    chmodSync(onDisk, 0o600);

    // A symlink in its place is not listed, and a restore planned before it appeared refuses it.
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'root only\n');
    renameSync(onDisk, `${onDisk}.moved`);
    symlinkSync(secret, onDisk);
    t.deepEqual(s.gather(backupsFact(path)), []);
    const stale = restored.plan({ file: s.gather(fileFact(path)), backups: [backup!] });
    result = s.run(stale.changes[0]!.command.script);
    t.is(result.code, 3);
    t.regex(result.stderr, /is not a regular file; not restoring from it/);
    t.false(existsSync(path));
    rmSync(onDisk);
    renameSync(`${onDisk}.moved`, onDisk);

    // An owner outside the system and batm accounts.
    const odd = onDisk.replace(/\.\d+-\d+-(\d+)$/, '.1003-1004-$1');
    renameSync(onDisk, odd);
    result = apply(s, restored).results[0];
    t.is(result?.code, 3);
    t.regex(result?.stderr ?? '', /records owner uid 1003, neither a system account nor a batm account/);
    t.false(existsSync(path));
  },
);

realTest(`a write whose content arrives cut short leaves the old file and no temp file${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  const path = join(dir, 'cut.properties');
  const before = `big=${'x'.repeat(4000)}\n`;
  writeFileSync(path, before);
  const plan = propertiesKey({ file: path, key: 'k', value: 'v' }).plan({ file: s.gather(fileFact(path)) });
  const stdin = stdinText(plan.changes[0]!.stdin!);
  const result = s.run(plan.changes[0]!.command.script, stdin.slice(0, Math.floor(stdin.length / 8) * 4));
  t.is(result.code, 3);
  t.regex(result.stderr, /received \d+ of \d+ bytes for .*cut\.properties \(transfer cut short\?\); not touching it/);
  t.is(readFileSync(path, 'utf8'), before);
  t.deepEqual(
    readdirSync(dir).filter((name) => name.includes('.casfleet.')),
    [],
  );
  // The backup is renamed into place only with the content verified: none is left, nor its temp file.
  t.deepEqual(s.gather(backupsFact(path)), []);
  t.deepEqual(readdirSync(join(backupRoot(s), dir)), []);
});

realTest(`a write whose content arrives whole but different is refused by its checksum${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  const path = join(dir, 'garbled.properties');
  writeFileSync(path, 'k=1\n');
  const plan = propertiesKey({ file: path, key: 'k', value: 'v' }).plan({ file: s.gather(fileFact(path)) });
  const stdin = stdinText(plan.changes[0]!.stdin!);
  const result = s.run(plan.changes[0]!.command.script, String.fromCharCode(stdin.charCodeAt(0) ^ 1) + stdin.slice(1));
  t.is(result.code, 3);
  t.regex(result.stderr, /the content received for .*garbled\.properties does not match its checksum; not touching it/);
  t.is(readFileSync(path, 'utf8'), 'k=1\n');
  t.deepEqual(s.gather(backupsFact(path)), []);
  t.deepEqual(
    readdirSync(dir).filter((name) => name.includes('garbled.properties.')),
    [],
  );
});

realTest(`a backup is 0600 whatever the original's mode, and a backup root left 0755 is made 0700 again${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  mkdirSync(backupRoot(s), { mode: 0o755 });
  chmodSync(backupRoot(s), 0o755);
  const path = join(dir, 'exec.properties');
  writeFileSync(path, 'k=1\n');
  chmodSync(path, 0o4755);
  const { results } = apply(s, propertiesKey({ file: path, key: 'k', value: 2 }));
  t.is(results[0]?.code, 0, results[0]?.stderr);
  t.is((statSync(backupRoot(s)).mode & 0o777).toString(8), '700');
  const [backup] = s.gather(backupsFact(path));
  t.is(backup?.mode, '4755');
  const onDisk = join(s.dir, 'backups', backup!.path.slice('/var/backups/'.length));
  t.is((statSync(onDisk).mode & 0o7777).toString(8), '600');
  t.is(readFileSync(onDisk, 'utf8'), 'k=1\n');
  t.regex(
    results[0]?.stdout ?? '',
    new RegExp(`^backup: ${backup!.path.replaceAll('.', '\\.')}\nwrote: ${path.replaceAll('.', '\\.')}\n$`),
  );
});

realTest(`a root-owned file round-trips through fileAbsent and fileRestored; the output names the backup${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  const path = join(dir, 'root-vpn');
  writeFileSync(path, 'root vpn\n');
  chmodSync(path, 0o640);
  const removed = apply(s, fileAbsent({ path })).results[0];
  t.is(removed?.code, 0, removed?.stderr);
  const [backup] = s.gather(backupsFact(path));
  t.deepEqual([backup?.uid, backup?.gid, backup?.mode], [0, 0, '640']);
  t.is(removed?.stdout, `backup: ${backup!.path}\nremoved: ${path}\n`);
  const restored = apply(s, fileRestored({ path })).results[0];
  t.is(restored?.code, 0, restored?.stderr);
  t.is(restored?.stdout, `restored: ${path} from ${backup!.path}\n`);
  t.is(readFileSync(path, 'utf8'), 'root vpn\n');
  const stat = statSync(path);
  t.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [0, 0, '640']);
});

realTest(`the transactions' backup tree is made 0700, and a backup root left 0755 is made 0700 again${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  resetBackups(s);
  const made = s.run(`set -u\n${trustedBackupDir('/var/backups/casfleet/transactions').script}\necho ok`);
  t.is(made.code, 0, made.stderr);
  t.is((statSync(backupRoot(s)).mode & 0o777).toString(8), '700');
  t.is((statSync(join(backupRoot(s), 'transactions')).mode & 0o777).toString(8), '700');
  chmodSync(backupRoot(s), 0o755);
  const again = s.run(`set -u\n${trustedBackupDir('/var/backups/casfleet/transactions').script}\necho ok`);
  t.is(again.code, 0, again.stderr);
  t.is(again.stdout, 'ok\n');
  t.is((statSync(backupRoot(s)).mode & 0o777).toString(8), '700');
  chmodSync(backupRoot(s), 0o775);
  const refused = s.run(`set -u\n${trustedBackupDir('/var/backups/casfleet/transactions').script}\necho ok`);
  t.is(refused.code, 3);
  t.regex(refused.stderr, /casfleet\/?\S* is writable by group or others \(mode 775\)/);
  // Someone else's backup root: refused before anything is made in it.
  resetBackups(s);
  mkdirSync(backupRoot(s), { mode: 0o700 });
  chownSync(backupRoot(s), 1001, 1001);
  const foreign = s.run(`set -u\n${trustedBackupDir('/var/backups/casfleet/transactions').script}\necho ok`);
  t.is(foreign.code, 3);
  t.regex(foreign.stderr, /\/var\/backups\/casfleet is owned by uid 1001, not root/);
  t.false(existsSync(join(backupRoot(s), 'transactions')));
});
