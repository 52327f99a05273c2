// casfleet killed (SIGINT, SIGTERM, SIGKILL) at each named phase of a Scenario A → B switch, each on
// its own lab host and all at once: the host must end in its old state (untouched before the first
// change; restored by its own dead-man after it), lose nothing, and converge on a later run.
import { runCli } from '../helpers/cli.ts';
import { assertRow, faultLab, SCENARIO_B, startCasfleet } from './fault-kit.ts';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGKILL'] as const;
const PHASES = ['after-facts', 'change-sent', 'between-changes', 'after-firewall-load', 'before-confirm'] as const;
const ROLLBACK = '6s';

const { run, the, kit } = faultLab({ hosts: SIGNALS.length * PHASES.length, prefix: 'fkill' });

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
      const record = kit.runRecordFor(host);
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
