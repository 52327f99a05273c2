// Rolling out safely, end to end on a 10-host lab through the CLI: a canary stage that waits for
// approval, batches with a failure budget, a halt that leaves later hosts untouched (checked from
// outside), and a resumed run that completes the fleet.
import { run } from '../../src/lab/lab-exec.ts';
import { probeFromController } from '../../src/lab/probe-from-controller.ts';
import { errorOf, jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { labForFile } from '../helpers/lab.ts';

const { serial, the } = labForFile({ hosts: 10, prefix: 'roll' });
const stateDir = (): string => `${the().dir}/state`;
const hostsFrom = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `cas-${String(from + i).padStart(3, '0')}`);
const ALL = hostsFrom(1, 10);

const casfleet = (...args: string[]) => runCli([...args, '-i', the().inventoryPath], { env: { CASFLEET_STATE_DIR: stateDir() } });

/** 7741 is open on a fresh lab host and filtered once scenario-a ran: the outside view of "touched". */
const gatePort = async (hosts: string[]) => {
  const results = await probeFromController({ name: the().name, address: hosts.map((h) => the().host(h).address), ports: [7741] });
  return Object.fromEntries(hosts.map((h) => [h, results.find((r) => r.address === the().host(h).address)?.state]));
};
const expectState = (hosts: string[], state: string) => Object.fromEntries(hosts.map((h) => [h, state]));

// A REJECT rule in the controller namespace makes one host unreachable, like a dead server.
const cutOff = (host: string, on: boolean) =>
  run([
    'ip',
    'netns',
    'exec',
    the().controllerNetns,
    'iptables',
    on ? '-I' : '-D',
    'OUTPUT',
    '-d',
    the().host(host).address,
    '-j',
    'REJECT',
  ]);

serial('without a terminal and without --yes the run stops after the canary stage', async (t) => {
  const result = await casfleet('apply', 'scenario-a', '--canary', 'canary', '--batches', '3', '--json');
  t.is(result.code, 3, result.stdout + result.stderr);
  const recap = recapOf(result.stdout);
  for (const host of hostsFrom(1, 2)) t.true(recap[host]!.changed > 0, host);
  for (const host of hostsFrom(3, 10)) t.is(recap[host]!.untouched, 1, host);
  const halt = jsonEvents(result.stdout).find((event) => event.type === 'halt');
  t.is(halt?.kind, 'approval');
  t.deepEqual(await gatePort(ALL), { ...expectState(hostsFrom(1, 2), 'filtered'), ...expectState(hostsFrom(3, 10), 'open') });
});

serial('plan groups hosts with identical changes', async (t) => {
  const result = await casfleet('plan', 'scenario-a', '--json');
  t.is(result.code, 0, result.stderr);
  const plan = JSON.parse(result.stdout) as { groups: Array<{ kind: string; hosts: string[] }> };
  t.deepEqual(
    plan.groups.map((group) => [group.kind, group.hosts]),
    [
      ['changes', hostsFrom(3, 10)],
      ['compliant', hostsFrom(1, 2)],
    ],
  );
  const human = await casfleet('plan', 'scenario-a');
  t.regex(human.stdout, /8 hosts \(cas-003…cas-010\)/);
  t.regex(human.stdout, /2 hosts: already compliant/);
});

serial('a host failing in batch 2 with --max-fail 0 halts the rollout; later hosts stay untouched', async (t) => {
  await cutOff('cas-007', true);
  const result = await casfleet('apply', 'scenario-a', '--canary', 'canary', '--batches', '3', '--max-fail', '0', '--yes', '--json');
  t.is(result.code, 2, result.stdout + result.stderr);
  const recap = recapOf(result.stdout);
  t.is(recap['cas-007']!.unreachable, 1);
  const cut = errorOf(jsonEvents(result.stdout).find((event) => event.type === 'unreachable'));
  t.is(cut?.kind, 'connect');
  t.regex(cut?.message ?? '', /^cannot connect to cas-007 .*: connection refused/);
  for (const host of [...hostsFrom(3, 6), 'cas-008']) t.is(recap[host]!.untouched, 0, host);
  for (const host of hostsFrom(9, 10)) t.is(recap[host]!.untouched, 1, host);
  const halt = jsonEvents(result.stdout).find((event) => event.type === 'halt');
  t.regex(String(halt?.reason), /batch 2\/3: 1 failed, budget 0/);
  t.deepEqual(await gatePort(hostsFrom(6, 10)), {
    'cas-006': 'filtered',
    'cas-007': 'closed', // still cut off: the controller's REJECT answers for it
    'cas-008': 'filtered',
    'cas-009': 'open',
    'cas-010': 'open',
  });
  const runs = await runCli(['runs', '--json'], { env: { CASFLEET_STATE_DIR: stateDir() } });
  t.is(runs.code, 0, runs.stderr);
  t.regex(runs.stdout, /halted/);
});

serial('--resume last --yes completes the fleet once the host is back', async (t) => {
  await cutOff('cas-007', false);
  const result = await casfleet('apply', 'scenario-a', '--resume', 'last', '--yes', '--json');
  t.is(result.code, 0, result.stdout + result.stderr);
  t.deepEqual(Object.keys(recapOf(result.stdout)).sort(), ['cas-007', 'cas-009', 'cas-010']);
  t.deepEqual(await gatePort(ALL), expectState(ALL, 'filtered'));
  const again = await casfleet('apply', 'scenario-a', '--json');
  for (const [host, counts] of Object.entries(recapOf(again.stdout))) t.is(counts.changed, 0, host);
});
