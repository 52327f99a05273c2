// The network between the controller and the hosts, in a lab of its own (the cut drops every host's
// traffic): the controller's network cut for 30 s between two changes, then restored; and 5 %
// packet loss both ways for a whole run. This kernel has no netem qdisc, so the loss is iptables'
// statistic match in the controller's namespace; no latency is added (no delaying relay yet).
import { run as exec } from '../../src/lab/lab-exec.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { recapOf } from '../helpers/cli.ts';
import { SCENARIO_B, assertRow, faultLab, reportedOutcome, startCasfleet } from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 2, prefix: 'fnet' });

const apply = (host: string, rollback: string) => ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', rollback];

/** iptables rules in the controller's namespace, for traffic to and from one host; returns their removal. */
const controllerRules = async (host: string, match: readonly string[]) => {
  const address = the().host(host).address;
  const rules = [['OUTPUT', '-d', address, ...match, '-j', 'DROP'], ['INPUT', '-s', address, ...match, '-j', 'DROP']];
  const iptables = async (action: string, rule: readonly string[]) => {
    const result = await exec(['ip', 'netns', 'exec', the().controllerNetns, 'iptables', '-w', action, ...rule]);
    if (result.code !== 0) throw new Error(`iptables ${action} ${rule.join(' ')}: ${result.stderr}`);
  };
  for (const rule of rules) await iptables('-I', rule);
  return async () => {
    for (const rule of rules) await iptables('-D', rule);
  };
};


run('the controller\'s network cut for 30 s between two changes', async (t) => {
  const host = 'cas-001';
  const start = await kit.prepare(host);
  const casfleet = startCasfleet(kit, the(), apply(host, '20s'), 'between-changes');
  await casfleet.paused(host);
  const restore = await controllerRules(host, []);
  const cutAt = Date.now();
  casfleet.resume();
  await sleep(30_000);
  await restore();
  const result = await casfleet.done;
  const detectionMs = (casfleet.reportedAt(host, cutAt) ?? Date.now()) - cutAt;
  await kit.untilSettled(host, 120_000);
  const verdict = await kit.judge(host, start);
  const outcome = reportedOutcome(verdict.ending, recapOf(result.stdout)[host]);
  const converged = await kit.converges(host);
  assertRow(
    t,
    { fault: 'controller network cut 30 s', phase: 'between-changes', hosts: 1, consistent: outcome.ok, dataLost: verdict.dataLost, converged, detectionMs, ending: `${verdict.ending}, reported ${outcome.said}` },
    `${result.stdout}${result.stderr}\n${verdict.now.files}`,
  );
});

run('5 % packet loss both ways for a whole run', async (t) => {
  const host = 'cas-002';
  const start = await kit.prepare(host);
  const lift = await controllerRules(host, ['-m', 'statistic', '--mode', 'random', '--probability', '0.05']);
  const startedAt = Date.now();
  const casfleet = startCasfleet(kit, the(), apply(host, '60s'));
  const result = await casfleet.done;
  const tookMs = Date.now() - startedAt;
  await kit.untilSettled(host, 120_000);
  const verdict = await kit.judge(host, start);
  await lift();
  const outcome = reportedOutcome(verdict.ending, recapOf(result.stdout)[host]);
  const converged = await kit.converges(host);
  assertRow(
    t,
    { fault: '5 % loss both ways (no latency)', phase: 'whole run', hosts: 1, consistent: outcome.ok, dataLost: verdict.dataLost, converged, detectionMs: tookMs, ending: `${verdict.ending}, reported ${outcome.said}` },
    `${result.stdout}${result.stderr}\n${verdict.now.files}`,
  );
});
