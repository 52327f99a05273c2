// Once a transaction is open, every change first checks on the host that the transaction's dead-man
// has not been claimed: a command that arrives only after the host restored its snapshot (a
// connection that stalled past the deadline, then recovered) must not change the restored host.
// Run with the local shell on a timer directory of this test.
import { existsSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { sh } from '../../src/command/shell.ts';
import { TIMER_DIR, unclaimedTimerGuard } from '../../src/host-timer/timer-commands.ts';
import { HostSession } from '../../src/run/host-session.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const dir = mkdtempSync(join(tmpdir(), 'casfleet-guard-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const ID = 'txn-20261201t120000z-abcd';

const changeOn = async (guarded: boolean, marker: string) => {
  const session = new HostSession(createLocalConnection(), { become: { enabled: false }, gatherTimeoutMs: 10_000, applyTimeoutMs: 10_000 });
  if (guarded) session.guardChanges(unclaimedTimerGuard(ID).replaceAll(TIMER_DIR, dir));
  return session.apply(sh`: >${join(dir, marker)}`, undefined, []);
};

test.serial('a change runs while the dead-man is armed and unclaimed, and is refused once it fired or is gone', async (t) => {
  writeFileSync(join(dir, `${ID}.due`), 'due 1796050900\narmed 1796050000\nmechanism process\n');
  const armed = await changeOn(true, 'armed');
  t.is(armed.status, 0, armed.output);
  t.true(existsSync(join(dir, 'armed')));

  symlinkSync('fire', join(dir, `${ID}.claim`));
  const fired = await changeOn(true, 'fired');
  t.is(fired.status, 3);
  t.regex(fired.output, /the rollback of transaction txn-20261201t120000z-abcd has begun on the host .*this change was not made/);
  t.false(existsSync(join(dir, 'fired')), 'the command did not run');

  unlinkSync(join(dir, `${ID}.claim`));
  unlinkSync(join(dir, `${ID}.due`));
  const gone = await changeOn(true, 'gone');
  t.is(gone.status, 3);
  t.false(existsSync(join(dir, 'gone')));

  // Without a transaction nothing is checked.
  const plain = await changeOn(false, 'plain');
  t.is(plain.status, 0, plain.output);
  t.true(existsSync(join(dir, 'plain')));
});

test('the guard takes only a timer id', (t) => {
  t.throws(() => unclaimedTimerGuard('x; rm -rf /'));
});
