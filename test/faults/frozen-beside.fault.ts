// One host frozen mid-apply while two others apply beside it: all three pause between two changes
// (the test hook stops each host there on one marker), the first is SIGSTOPped whole (sshd, its
// session, its dead-man), then all three go on. The other two must finish at their own pace: each
// ends before casfleet could give the frozen host up (it learns that from the keepalive bound,
// never sooner) and is reported and recorded done; the frozen one, thawed once casfleet gave its
// connection up, ends old or new by its own transaction, and casfleet's report and the run record
// say which.
import { setTimeout as sleep } from 'node:timers/promises';
import { recapOf } from '../helpers/cli.ts';
import { assertRow, faultLab, freezeHost, KEEPALIVE_BOUND_MS, reportedOutcome, SCENARIO_B, signalAll, startCasfleet } from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 3, prefix: 'ffb' });
const FROZEN = 'cas-001';
const OTHERS = ['cas-002', 'cas-003'];
const ALL = [FROZEN, ...OTHERS];
const seconds = (ms: number | undefined): string => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

run('a host frozen mid-apply delays neither of the two hosts applying beside it', async (t) => {
  const starts = Object.fromEntries(await Promise.all(ALL.map(async (host) => [host, await kit.prepare(host)] as const)));
  const casfleet = startCasfleet(kit, the(), ['apply', ...SCENARIO_B, '-l', ALL.join(','), '--rollback-timeout', '20s'], 'between-changes');
  await Promise.all(ALL.map((host) => casfleet.paused(host)));
  const frozen = freezeHost(the(), FROZEN);
  const frozenAt = Date.now();
  casfleet.resume();
  // Thawed once casfleet has given its connection up: it then finds out how the host ended by
  // logging in anew (a host still frozen after that is reported unreachable, its state unknown).
  while (casfleet.reportedAt(FROZEN, frozenAt) === undefined && casfleet.child.exitCode === null && Date.now() - frozenAt < 180_000)
    await sleep(200);
  signalAll(frozen, 'SIGCONT');
  const result = await casfleet.done;

  const frozenReported = casfleet.reportedAt(FROZEN, frozenAt);
  const detectionMs = frozenReported === undefined ? undefined : frozenReported - frozenAt;
  const ends = OTHERS.map((host) => casfleet.events.find(({ event }) => event.type === 'host-end' && event.host === host));
  // Measured from the resume: what the others still had to do (the second change on, confirmation, probe).
  const afterResume = ends.map((end) => (end === undefined ? undefined : end.at - frozenAt));
  const notDelayed = frozenReported !== undefined && ends.every((end) => end !== undefined && end.at < frozenReported);

  await kit.untilSettled(FROZEN, 120_000);
  const recap = recapOf(result.stdout);
  const record = await kit.runRecordFor(ALL.join(','));
  const verdicts = await Promise.all(OTHERS.map((host) => kit.judge(host, starts[host]!)));
  const othersDone = OTHERS.every(
    (host, index) =>
      verdicts[index]!.ending === 'new' && reportedOutcome('new', recap[host]).ok && record?.hosts[host]?.state === 'changed',
  );
  const frozenVerdict = await kit.judge(FROZEN, starts[FROZEN]!);
  const frozenOutcome = reportedOutcome(frozenVerdict.ending, recap[FROZEN]);
  const frozenRecorded = record?.hosts[FROZEN]?.state;
  const recordedRight = frozenVerdict.ending === 'old' ? frozenRecorded === 'rolled-back' : frozenRecorded === 'changed';
  const converged = (await kit.casfleet(['apply', ...SCENARIO_B, '-l', ALL.join(',')])).code === 0;
  assertRow(
    t,
    {
      fault: 'one of 3 hosts frozen (SIGSTOP) mid-apply',
      phase: 'between-changes',
      hosts: 3,
      consistent: notDelayed && othersDone && frozenOutcome.ok && recordedRight,
      dataLost: [...verdicts, frozenVerdict].some((verdict) => verdict.dataLost),
      converged,
      detectionMs,
      ending:
        `frozen one ${frozenVerdict.ending}, reported ${frozenOutcome.said}, recorded ${frozenRecorded ?? 'nothing'}; ` +
        `others new, done ${afterResume.map(seconds).join(', ')} after the resume`,
    },
    `exit ${result.code}, ${frozen.length} processes frozen\n${result.stdout}${result.stderr}\n${frozenVerdict.now.files}`,
  );
  t.true(notDelayed, 'both other hosts ended before the frozen one was given up');
  t.true(
    detectionMs !== undefined && detectionMs <= KEEPALIVE_BOUND_MS,
    `the frozen host is given up within the keepalive bound (took ${detectionMs} ms)`,
  );
});
