// casfleet killed (SIGINT, SIGTERM, SIGKILL) at each named phase of a Scenario A → B switch, each on
// its own lab host and all at once: the host must end in its old state (untouched before the first
// change; restored by its own dead-man after it), lose nothing, and converge on a later run. And one
// SIGKILL of a run of three hosts caught in three states: its record must tell them apart.
import { runCli } from '../helpers/cli.ts';
import { assertRow, faultLab, SCENARIO_B, startCasfleet } from './fault-kit.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const;
const PHASES = ['after-facts', 'change-sent', 'between-changes', 'after-firewall-load', 'before-confirm'] as const;
const ROLLBACK = '6s';

const { run, the, kit } = faultLab({ hosts: SIGNALS.length * PHASES.length + 3, prefix: 'fkill' });

for (const [s, signal] of SIGNALS.entries()) {
  for (const [p, phase] of PHASES.entries()) {
    const host = `cas-${String(s * PHASES.length + p + 1).padStart(3, '0')}`;
    run(`casfleet ${signal} at ${phase}`, async (t) => {
      const start = await kit.prepare(host);
      const casfleet = startCasfleet(kit, the(), ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', ROLLBACK], phase);
      const pid = await casfleet.paused(host);
      process.kill(pid, signal);
      const killedAt = Date.now();
      const ended = await casfleet.done;
      casfleet.resume();
      await kit.untilSettled(host);
      const settledAt = Date.now();
      const verdict = await kit.judge(host, start);
      // Every signal leaves a record that says what the host is left with: SIGINT and SIGTERM write
      // it as they stop, SIGKILL leaves what was written ahead as the host started changing.
      const record = await kit.runRecordFor(host);
      const recorded = record?.hosts[host]?.state;
      const expected = phase === 'after-facts' ? 'untouched' : 'rolled-back';
      const shown = signal === 'SIGKILL' ? (await runCli(['runs', 'show', record?.id ?? 'last'], { env: kit.env() })).stdout : '';
      const presented = signal !== 'SIGKILL' || /interrupted: its process is gone/.test(shown);
      const converged = await kit.converges(host);
      assertRow(
        t,
        {
          fault: `casfleet ${signal}`,
          phase,
          hosts: 1,
          consistent: verdict.ending === 'old' && recorded === expected && presented,
          dataLost: verdict.dataLost,
          converged,
          detectionMs: settledAt - killedAt,
          ending: `${verdict.ending}${recorded ? `; recorded ${recorded}` : ''}`,
        },
        `exit ${ended.code}\n${ended.stdout}${ended.stderr}\n${shown}\n${verdict.now.files}`,
      );
    });
  }
}

// One record, three hosts in three states: the first already new (nothing to change, it ends
// first), the second killed between two changes (its dead-man restores it), the third never
// started (--forks 1). SIGKILL leaves no chance to write anything at the kill.
const MIXED = [1, 2, 3].map((n) => `cas-${String(SIGNALS.length * PHASES.length + n).padStart(3, '0')}`);

run('casfleet SIGKILL with one host done, one mid-apply and one not started', async (t) => {
  const [done, changing, waiting] = MIXED as [string, string, string];
  const starts = await Promise.all(MIXED.map((host) => kit.prepare(host)));
  const converge = await kit.casfleet(['apply', ...SCENARIO_B, '-l', done]);
  if (converge.code !== 0) throw new Error(`${done} did not take Scenario B first:\n${converge.stdout}${converge.stderr}`);
  const limit = MIXED.join(',');
  const casfleet = startCasfleet(
    kit,
    the(),
    ['apply', ...SCENARIO_B, '-l', limit, '--forks', '1', '--rollback-timeout', ROLLBACK],
    'between-changes',
  );
  const pid = await casfleet.paused(changing);
  process.kill(pid, 'SIGKILL');
  const killedAt = Date.now();
  const ended = await casfleet.done;
  casfleet.resume();
  await kit.untilSettled(changing);
  const settledAt = Date.now();
  const verdicts = await Promise.all(MIXED.map((host, index) => kit.judge(host, starts[index]!)));
  const record = await kit.runRecordFor(limit);
  const recorded = MIXED.map((host) => record?.hosts[host]?.state ?? 'none');
  const expected = ['ok', 'rolled-back', 'untouched'];
  const converged = (await kit.casfleet(['apply', ...SCENARIO_B, '-l', limit])).code === 0;
  assertRow(
    t,
    {
      fault: 'casfleet SIGKILL, 3 hosts (done, changing, not started)',
      phase: 'between-changes',
      hosts: 3,
      consistent: verdicts.map((verdict) => verdict.ending).join() === 'new,old,old' && recorded.join() === expected.join(),
      dataLost: verdicts.some((verdict) => verdict.dataLost),
      converged,
      detectionMs: settledAt - killedAt,
      ending: `${MIXED.map((host, index) => `${host} ${verdicts[index]!.ending}`).join(', ')}; recorded ${recorded.join(', ')}`,
    },
    `exit ${ended.code}\n${ended.stdout}${ended.stderr}\n${JSON.stringify(record?.hosts)}`,
  );
  t.deepEqual(recorded, expected, `the record says ${done} done, ${changing} rolled back, ${waiting} untouched`);
});
