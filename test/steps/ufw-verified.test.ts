// The check that ufw's files are the verified 0.36.2 ones (ufw-enable.ts), run by dash against a
// `cksum` earlier on PATH that prints what it is given and counts its runs: the rule-file writer's
// and the enable's checks in one script cost one cksum, each holds only for its own files, and a
// line counts only whole.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { UFW_CKSUMS_ONCE, UFW_VERIFIED_FUNCTION, VERIFIED_CKSUMS, verifiedUfwFilesTest } from '../../src/steps/ufw-enable.ts';

const dir = mkdtempSync(join(tmpdir(), 'casfleet-cksum-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'cksum'), `#!/bin/sh\necho run >>${dir}/runs\ncat ${dir}/printed\n`, { mode: 0o755 });

const INIT = '/lib/ufw/ufw-init-functions';
const COMMON = '/usr/lib/python3/dist-packages/ufw/common.py';
const PYTHON = Object.keys(VERIFIED_CKSUMS).filter((path) => path.endsWith('.py'));
const ENABLE_FILES = Object.keys(VERIFIED_CKSUMS).filter((path) => path !== COMMON);
const line = (path: string) => `${VERIFIED_CKSUMS[path]} ${path}`;

/** Which checks hold when cksum prints `printed`, and how many times cksum ran. */
const verdicts = (printed: readonly string[]) => {
  writeFileSync(join(dir, 'printed'), printed.map((text) => `${text}\n`).join(''));
  rmSync(join(dir, 'runs'), { force: true });
  const script = `${UFW_VERIFIED_FUNCTION}
${UFW_CKSUMS_ONCE}
( ${verifiedUfwFilesTest(PYTHON)} ) && echo writer
( ${verifiedUfwFilesTest(ENABLE_FILES)} ) && echo enable
:`;
  const result = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}` } });
  const runs = readFileSync(join(dir, 'runs'), 'utf8').split('\n').filter(Boolean).length;
  return { holds: result.stdout.split('\n').filter(Boolean), runs };
};

test('both checks of one script share one cksum', (t) => {
  t.deepEqual(verdicts(Object.keys(VERIFIED_CKSUMS).map(line)), { holds: ['writer', 'enable'], runs: 1 });
});

test('each check holds only for its own files', (t) => {
  const others = Object.keys(VERIFIED_CKSUMS).filter((path) => path !== COMMON && path !== INIT);
  t.deepEqual(verdicts([line(INIT), ...others.map(line), `1 22530 ${COMMON}`]).holds, ['enable'], 'another common.py');
  t.deepEqual(verdicts([...others.map(line), line(COMMON)]).holds, ['writer'], 'no ufw-init-functions');
});

test('a line counts only whole', (t) => {
  const all = Object.keys(VERIFIED_CKSUMS).map(line);
  t.deepEqual(verdicts(all.map((text) => (text.endsWith(COMMON) ? `9${text}` : text))).holds, ['enable']);
  t.deepEqual(verdicts(all.map((text) => (text.endsWith(INIT) ? `${text}.orig` : text))).holds, ['writer']);
});
