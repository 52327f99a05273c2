// The file-changing shell (remote-file.ts) run for real inside the scratch namespace, whose
// /var/backups is a private copy: propertiesKey writes atomically and keeps owner/group/mode and
// every other byte, makes a root-only backup and refuses a file that changed after its facts were
// read; fileAbsent then fileRestored round-trip a file with its metadata.
import test from 'ava';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupsFact, fileFact } from '../../src/facts/file.ts';
import { fileAbsent } from '../../src/steps/file-absent.ts';
import { fileRestored } from '../../src/steps/file-restored.ts';
import { propertiesKey } from '../../src/steps/properties.ts';
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
});

realTest(`fileAbsent backs up and removes; fileRestored puts it back with owner, group and mode${suffix}`, (t) => {
  const s = scratch as UfwScratch;
  const path = join(dir, 'vpn');
  writeFileSync(path, 'vpn config\n');
  chownSync(path, 1003, 1004);
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
  t.deepEqual([stat.uid, stat.gid, (stat.mode & 0o7777).toString(8)], [1003, 1004, '604']);
  t.deepEqual(apply(s, restored).plan.changes, []);
});
