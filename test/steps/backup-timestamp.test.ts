// The backup timestamp snippet (remote-file.ts) run for real: bash formats $EPOCHREALTIME with its
// printf builtin, in UTC whatever TZ says and whichever decimal point the locale gives; other shells
// (dash here) ask date. Both print what parseBackupName accepts, and the builtin agrees with date.
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { parseBackupName } from '../../src/facts/backup-name.ts';
import { backupTimestamp } from '../../src/steps/remote-file.ts';

const run = (shell: string, before: string, env: NodeJS.ProcessEnv = {}): string => {
  const result = spawnSync(shell, ['-c', `set -eu\n${before}\n${backupTimestamp.script}\nprintf '%s\\n' "$ts"`], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) throw new Error(`${shell} exited ${result.status}: ${result.stderr}`);
  return result.stdout.trim();
};

const date = (epoch: number): string => spawnSync('date', ['-u', '-d', `@${epoch}`, '+%Y%m%dT%H%M%S'], { encoding: 'utf8' }).stdout.trim();

const secondsOf = (ts: string): number => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.\d{9}Z$/.exec(ts);
  if (!m) throw new Error(`not a backup timestamp: ${ts}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
};

test('bash: the time now, in UTC under any TZ, to the microsecond, as a backup name takes it', (t) => {
  const before = Date.now() / 1000;
  const ts = run('bash', '', { TZ: 'Asia/Kolkata' });
  const after = Date.now() / 1000;
  t.regex(ts, /^\d{8}T\d{6}\.\d{6}000Z$/);
  t.true(secondsOf(ts) >= Math.floor(before) && secondsOf(ts) <= after, `${ts} is not between ${before} and ${after}`);
  t.is(parseBackupName('/batm/config/vpn', `vpn.${ts}.0-0-640`)?.timestamp, ts);
});

test('bash: the same calendar date as GNU date, with a locale whose decimal point is a comma', (t) => {
  // Unset, EPOCHREALTIME is an ordinary variable the test can set.
  for (const epoch of [0, 951_782_400, 1_709_164_799, 1_700_000_000, 4_102_444_799]) {
    t.is(run('bash', `unset EPOCHREALTIME; EPOCHREALTIME=${epoch},012345`, { TZ: 'America/New_York' }), `${date(epoch)}.012345000Z`);
    t.is(run('bash', `unset EPOCHREALTIME; EPOCHREALTIME=${epoch}.999999`), `${date(epoch)}.999999000Z`);
  }
});

const noDash = spawnSync('dash', ['-c', ':']).status !== 0;

(noDash ? test.skip : test)('a shell without $EPOCHREALTIME (dash) asks date, to the nanosecond', (t) => {
  const ts = run('dash', '', { TZ: 'Asia/Kolkata' });
  t.regex(ts, /^\d{8}T\d{6}\.\d{9}Z$/);
  t.true(Math.abs(secondsOf(ts) - Date.now() / 1000) < 5);
});

(noDash ? test.skip : test)("dash takes the time the write's temp file was made, as the tree's stat read it: no date", (t) => {
  const made = 'tmp_day=2026-12-02 tmp_time=05:44:00.123456789 tmp_zone=+0000';
  // The shell by its path: the PATH given has nothing on it, date included.
  t.is(run('/bin/dash', made, { PATH: '/nonexistent' }), '20261202T054400.123456789Z');
  // Anything but a UTC time to the nanosecond is not taken: date answers.
  for (const odd of [made.replace('+0000', '+0100'), made.replace('.123456789', ''), 'tmp_day= tmp_time= tmp_zone=']) {
    t.regex(run('dash', odd), /^\d{8}T\d{6}\.\d{9}Z$/);
    t.not(run('dash', odd), '20261202T054400.123456789Z');
  }
});
