// The trust rule for sourcing CAS's firewall.rules as root (vpngen-rules.ts), run by dash on a
// file and directory of this test instead of /batm/vpngen (as root: the owner is part of the rule),
// with a `stat` earlier on PATH that counts its runs: one per check.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { VPNGEN_RULES, vpngenProblem } from '../../src/steps/vpngen-rules.ts';

const asRoot = process.getuid?.() === 0 ? test.serial : test.serial.skip;
const root = mkdtempSync(join(tmpdir(), 'casfleet-vpngen-'));
const dir = join(root, 'vpngen');
const rules = join(dir, 'firewall.rules');
const shim = join(root, 'bin');
test.after.always(() => rmSync(root, { recursive: true, force: true }));

test.before(() => {
  mkdirSync(shim);
  const stat = spawnSync('sh', ['-c', 'command -v stat'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(shim, 'stat'), `#!/bin/sh\necho run >>${root}/stat-runs\nexec ${stat} "$@"\n`, { mode: 0o755 });
});

/** What vpngen_problem prints for the file as it is now, and how many times stat ran. */
const problem = () => {
  rmSync(join(root, 'stat-runs'), { force: true });
  const script = `${vpngenProblem.script.replaceAll(VPNGEN_RULES, rules)}\nvpngen_problem`;
  const result = spawnSync('/bin/sh', ['-c', script], {
    encoding: 'utf8',
    env: { PATH: `${shim}:${process.env.PATH ?? '/usr/bin:/bin'}` },
  });
  let runs = 0;
  try {
    runs = readFileSync(join(root, 'stat-runs'), 'utf8').split('\n').filter(Boolean).length;
  } catch {}
  return { printed: result.stdout.trim(), runs };
};

const reset = () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  writeFileSync(rules, 'true\n', { mode: 0o644 });
};

asRoot('a root-owned file in a root-owned directory, neither writable by everyone, may be sourced: one stat', (t) => {
  reset();
  t.deepEqual(problem(), { printed: '', runs: 1 });
});

asRoot('a file or directory anyone can write, another owner or a link is refused, each with its reason', (t) => {
  reset();
  chmodSync(rules, 0o666);
  t.is(problem().printed, `${rules} is writable by everyone (mode 666)`);
  reset();
  chmodSync(dir, 0o757);
  t.is(problem().printed, `${dir} is writable by everyone (mode 757)`);
  reset();
  chownSync(rules, 65534, 65534);
  t.regex(problem().printed, new RegExp(`^${rules} is owned by \\S+ \\(uid 65534\\), not by root or a batm account$`));
  reset();
  chownSync(dir, 65534, 65534);
  t.regex(problem().printed, new RegExp(`^${dir} is owned by \\S+ \\(uid 65534\\), not by root or a batm account$`));
  reset();
  rmSync(rules);
  symlinkSync('/etc/hostname', rules);
  t.deepEqual(problem(), { printed: 'it is a symbolic link', runs: 0 });
});
