// What beginning a transaction makes of what the host answered: the armed transaction, or why not.
import test from 'ava';
import { kernelFirewall } from '../../src/facts/kernel-firewall.ts';
import { HostSession } from '../../src/run/host-session.ts';
import { beginTransaction, prepareTransaction } from '../../src/run/host-transaction.ts';
import type { ExecResult } from '../../src/ssh/connection.ts';
import { createLocalConnection } from '../helpers/local-connection.ts';

const session = () => new HostSession(createLocalConnection(), { become: { enabled: false }, gatherTimeoutMs: 1000, applyTimeoutMs: 1000 });
const start = prepareTransaction({ files: ['/etc/ufw/user.rules'], firewall: true, restarts: [] }, 120_000);
const answered = (result: ExecResult) => async () => result;

test('the begin armed: its snapshot, due time and the filter tables to re-read', async (t) => {
  const armed = await beginTransaction(
    session(),
    start,
    answered({
      stdout: `snapshot /var/backups/casfleet/transactions/${start.id}\narmed ${start.id} 1796050120 process\n`,
      stderr: '',
      code: 0,
    }),
  );
  t.like(armed, { id: start.id, snapshot: `/var/backups/casfleet/transactions/${start.id}`, dueOnHost: 1_796_050_120, timeoutMs: 120_000 });
  t.deepEqual(armed.rereads, [kernelFirewall], 'the live filter tables, since the firewall changes');
});

test('a begin that printed nothing is not taken for an armed one', async (t) => {
  await t.throwsAsync(beginTransaction(session(), start, answered({ stdout: '', stderr: '', code: 0 })), {
    message: 'could not snapshot the host and arm its rollback (exit 0): it printed neither',
  });
});

test('a begin that failed on the host gives its exit status and its last words', async (t) => {
  await t.throwsAsync(
    beginTransaction(session(), start, answered({ stdout: '', stderr: 'casfleet: cannot copy /etc/ufw/user.rules\n', code: 3 })),
    { message: 'could not snapshot the host and arm its rollback (exit 3): casfleet: cannot copy /etc/ufw/user.rules' },
  );
});
