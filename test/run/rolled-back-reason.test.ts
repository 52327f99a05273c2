// What a rollback that a failed step asked for says: restored now by casfleet, or restored before by
// the dead-man itself (its restore started once it was due, by the host's clock), as when a change
// that reached the host after the deadline was refused there.
import test from 'ava';
import { parseTimerOutcome } from '../../src/host-timer/timer-outcome.ts';
import { rolledBackReason } from '../../src/run/host-transaction.ts';

const armed = { dueOnHost: 1_796_050_120, timeoutMs: 120_000 };
const firedAt = (started: number) =>
  parseTimerOutcome(`timer txn-1 fired\nexit 0\nstarted ${started}\nended ${started + 1}\n| restored /etc/ufw/user.rules\nend\n`);

test('a restore that started before the dead-man was due was casfleet firing it now', (t) => {
  t.is(rolledBackReason("'x' failed", firedAt(1_796_050_030), armed), "'x' failed; the snapshot was restored at once");
});

test('a restore that started once the dead-man was due was the dead-man itself', (t) => {
  t.is(
    rolledBackReason("'x' failed", firedAt(1_796_050_121), armed),
    "'x' failed; the host had restored its snapshot by itself (dead-man after 2m)",
  );
  t.regex(rolledBackReason("'x' failed", firedAt(1_796_050_120), armed), /by itself/);
});
