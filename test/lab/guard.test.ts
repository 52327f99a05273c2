// The lock-out guard, input refusals and kernel truth, end to end on a lab through the CLI: a
// change that would cut the session casfleet uses is refused and leaves the host untouched (seen
// on the host and from outside); a different SSH port in the inventory is kept open; bad inputs
// stop before any connection; rules outside ufw are seen, reported and left alone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { LAB_ALT_SSH_PORT } from '../../src/lab/lab-ports.ts';
import { jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { labUnavailableReason, startLab, stopLab, type TestLab } from '../helpers/lab.ts';

const unavailable = labUnavailableReason();
const serial = unavailable ? test.serial.skip : test.serial;
let lab: TestLab | undefined;

test.before(async () => {
  if (unavailable) return;
  lab = await startLab({ hosts: 4, prefix: 'grd' });
});
test.after.always(async () => {
  await stopLab(lab);
});

const the = (): TestLab => {
  if (!lab) throw new Error('lab not started');
  return lab;
};

const apply = (...args: string[]) => runCli(['apply', ...args, '--json', '--yes'], {});
const applyLab = (...args: string[]) => apply(...args, '-i', the().inventoryPath);

type StepEvent = {
  type: string;
  host: string;
  step: string;
  status: string;
  error?: { kind: string; message: string };
  warnings?: string[];
  changes: string[];
};
const firewallEvent = (stdout: string, host: string) =>
  jsonEvents(stdout).find((event) => event.type === 'step' && event.host === host && event.step === 'firewall (ufw)') as unknown as
    | StepEvent
    | undefined;

/** What the host's firewall is, on the host: ufw's view and the kernel's. */
const firewallOn = async (host: string) => {
  const status = await the().exec(host, ['ufw', 'status', 'verbose']);
  const rules = await the().exec(host, ['iptables-save', '-t', 'filter']);
  return { status: status.stdout, rules: rules.stdout.replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, '') };
};
const probe = async (host: string, ports: number[]) =>
  Object.fromEntries((await the().probe(host, ports)).map((result) => [result.port, result.state]));

// cas-002 stays a fresh server (no firewall yet): the one whose sshd is reached on 2222 below.
serial('baseline: scenario-a on every host but cas-002', async (t) => {
  const result = await applyLab('scenario-a', '-l', 'all:!cas-002');
  t.is(result.code, 0, result.stdout + result.stderr);
  t.deepEqual(await probe('cas-001', [22, LAB_ALT_SSH_PORT]), { 22: 'open', [LAB_ALT_SSH_PORT]: 'filtered' });
});

serial('-e sshPort=2222 on a host reached on 22 is refused and leaves it untouched', async (t) => {
  const before = await firewallOn('cas-001');
  const result = await applyLab('scenario-a', '-l', 'cas-001', '-e', `sshPort=${LAB_ALT_SSH_PORT}`);
  t.is(result.code, 2, result.stdout + result.stderr);
  const event = firewallEvent(result.stdout, 'cas-001');
  t.is(event?.status, 'failed');
  t.is(event?.error?.kind, 'plan');
  t.regex(
    event?.error?.message ?? '',
    /the plan allows SSH on 2222\/tcp from anywhere; this session comes from 10\.99\.0\.1 to port 22 \(on eth0\): applying it would lock you out\. To move SSH to 2222: make sshd listen on 2222 as well/,
  );
  t.regex(event?.error?.message ?? '', /nothing was changed on this host/);
  t.deepEqual(await firewallOn('cas-001'), before);
  t.deepEqual(await probe('cas-001', [22, LAB_ALT_SSH_PORT]), { 22: 'open', [LAB_ALT_SSH_PORT]: 'filtered' });
});

serial('sshAllowFrom without the controller address is refused and leaves the host untouched', async (t) => {
  const before = await firewallOn('cas-001');
  const result = await applyLab('scenario-a', '-l', 'cas-001', '-e', 'sshAllowFrom=192.0.2.0/24,198.51.100.7');
  t.is(result.code, 2, result.stdout + result.stderr);
  t.regex(
    firewallEvent(result.stdout, 'cas-001')?.error?.message ?? '',
    /the plan allows SSH on 22\/tcp only from 192\.0\.2\.0\/24, from 198\.51\.100\.7; this session comes from 10\.99\.0\.1 to port 22.*Add this address \(or its network\) to sshAllowFrom/,
  );
  t.deepEqual(await firewallOn('cas-001'), before);
  t.deepEqual(await probe('cas-001', [22]), { 22: 'open' });

  // Containing the controller's network, the same restriction applies.
  const allowed = await applyLab('scenario-a', '-l', 'cas-001', '-e', 'sshAllowFrom=10.99.0.0/24');
  t.is(allowed.code, 0, allowed.stdout + allowed.stderr);
  t.true(firewallEvent(allowed.stdout, 'cas-001')?.changes.includes('+ allow 22/tcp from 10.99.0.0/24 (SSH)'));
  const back = await applyLab('scenario-a', '-l', 'cas-001');
  t.is(back.code, 0, back.stdout + back.stderr);
});

serial('an inventory with ansible_port 2222 and no sshPort applies and keeps 2222 open', async (t) => {
  const lab = the();
  const address = lab.host('cas-002').address;
  const inventory = readFileSync(lab.inventoryPath, 'utf8').replace(
    `ansible_host: ${address}\n`,
    `ansible_host: ${address}\n      ansible_port: ${LAB_ALT_SSH_PORT}\n`,
  );
  t.true(inventory.includes(`ansible_port: ${LAB_ALT_SSH_PORT}`));
  const inventoryPath = join(lab.dir, 'inventory-2222.yml');
  writeFileSync(inventoryPath, inventory);
  const knownHosts = readFileSync(lab.knownHostsPath, 'utf8');
  const key = knownHosts
    .split('\n')
    .find((line) => line.startsWith(`${address} `))!
    .split(' ')
    .slice(1)
    .join(' ');
  const knownHostsPath = join(lab.dir, 'known_hosts-2222');
  writeFileSync(knownHostsPath, `${knownHosts}[${address}]:${LAB_ALT_SSH_PORT} ${key}\n`);

  const result = await apply('scenario-a', '-i', inventoryPath, '-l', 'cas-002', '--known-hosts', knownHostsPath);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.is(firewallEvent(result.stdout, 'cas-002')?.changes[0], `+ allow ${LAB_ALT_SSH_PORT}/tcp (SSH)`);
  t.deepEqual(await probe('cas-002', [22, LAB_ALT_SSH_PORT]), { 22: 'filtered', [LAB_ALT_SSH_PORT]: 'open' });
  const again = await apply('scenario-a', '-i', inventoryPath, '-l', 'cas-002', '--known-hosts', knownHostsPath);
  t.is(recapOf(again.stdout)['cas-002']?.changed, 0, again.stdout);
});

serial('-e publicInterface=ens3 fails that host before any change, naming its interfaces', async (t) => {
  const before = await firewallOn('cas-003');
  const result = await applyLab('scenario-a', '-l', 'cas-003,cas-004', '-e', 'publicInterface=ens3');
  t.is(result.code, 2, result.stdout + result.stderr);
  t.regex(
    firewallEvent(result.stdout, 'cas-003')?.error?.message ?? '',
    /interface ens3 \(rules #2, #3, #4\) does not exist on this host, so those rules would match nothing; its interfaces are: batm0, eth0, lo/,
  );
  t.is(recapOf(result.stdout)['cas-004']?.failed, 1, 'the same vars fail every host that lacks the interface');
  t.deepEqual(await firewallOn('cas-003'), before);
});

serial('a hand-added 7777 ACCEPT in INPUT fails a re-run on that host only, quoting the rule, and stays', async (t) => {
  await the().exec('cas-003', ['iptables', '-I', 'INPUT', '-p', 'tcp', '--dport', '7777', '-j', 'ACCEPT']);
  t.deepEqual(await probe('cas-003', [7777]), { 7777: 'open' });
  const result = await applyLab('scenario-a', '-l', 'cas-003,cas-004');
  t.is(result.code, 2, result.stdout + result.stderr);
  const recap = recapOf(result.stdout);
  t.is(recap['cas-003']?.failed, 1);
  t.like(recap['cas-004'], { changed: 0, failed: 0, unreachable: 0, skipped: 0, untouched: 0, rolledBack: 0 });
  t.regex(
    firewallEvent(result.stdout, 'cas-003')?.error?.message ?? '',
    /the iptables rule '-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT' accepts protected port 7777 outside ufw.*remove it \(iptables -D INPUT -p tcp -m tcp --dport 7777 -j ACCEPT\)/,
  );
  t.regex(
    (await the().exec('cas-003', ['iptables', '-S', 'INPUT'])).stdout,
    /^-A INPUT -p tcp -m tcp --dport 7777 -j ACCEPT$/m,
    'casfleet never deletes it',
  );
  await the().exec('cas-003', ['iptables', '-D', 'INPUT', '-p', 'tcp', '--dport', '7777', '-j', 'ACCEPT']);
  const clean = await applyLab('scenario-a', '-l', 'cas-003');
  t.is(clean.code, 0, clean.stdout + clean.stderr);
});

serial('ufw chains changed by hand are not compliant: a re-run reloads them, the next changes nothing', async (t) => {
  // Flushed, with only SSH put back (a flush alone would cut every new login, casfleet's included).
  await the().exec('cas-003', ['sh', '-c', 'iptables -F ufw-user-input && iptables -A ufw-user-input -p tcp --dport 22 -j ACCEPT']);
  t.deepEqual(await probe('cas-003', [7742, 12000]), { 7742: 'filtered', 12000: 'filtered' });
  const result = await applyLab('scenario-a', '-l', 'cas-003');
  t.is(result.code, 0, result.stdout + result.stderr);
  t.deepEqual(firewallEvent(result.stdout, 'cas-003')?.changes, [
    '~ reload ufw: the running rules differ from its files ([v4] ufw-user-input runs 1 rule, /etc/ufw/user.rules has 7)',
    '~ re-apply /batm/vpngen/firewall.rules (CAS terminal-VPN rules) after the ufw restart',
  ]);
  t.deepEqual(await probe('cas-003', [22, 7742, 12000, 7777]), { 22: 'open', 7742: 'open', 12000: 'open', 7777: 'filtered' });
  const again = await applyLab('scenario-a', '-l', 'cas-003');
  t.is(recapOf(again.stdout)['cas-003']?.changed, 0, again.stdout);
});

serial('a Docker-style published CAS port (nat DNAT + FORWARD accept) is reported in the plan', async (t) => {
  await the().exec('cas-004', [
    'sh',
    '-c',
    [
      'sysctl -qw net.ipv4.ip_forward=1',
      'iptables -N DOCKER',
      'iptables -I FORWARD -o docker0 -j DOCKER',
      'iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT',
      'iptables -t nat -N DOCKER',
      'iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER',
      'iptables -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 7777 -j DNAT --to-destination 172.17.0.2:80',
    ].join(' && '),
  ]);
  const result = await runCli(['plan', 'scenario-a', '-i', the().inventoryPath, '-l', 'cas-004']);
  t.is(result.code, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /tcp 7777 is forwarded to 172\.17\.0\.2:80 .* and FORWARD lets it through .*never pass ufw's INPUT rules/);
});

serial('inputs that would widen exposure are refused before any connection, naming the -e argument', async (t) => {
  const sshdLog = join(the().dir, 'hosts', 'h001', 'sshd.log');
  const logBefore = readFileSync(sshdLog, 'utf8');
  const hostBits = await runCli(['apply', 'scenario-a', '-i', the().inventoryPath, '-l', 'cas-001', '-e', 'adminAllowFrom=1::/0']);
  t.is(hostBits.code, 1);
  t.regex(
    hostBits.stderr,
    /adminAllowFrom\.0: 1::\/0 has host bits set after \/0: did you mean the host 1::\? \(::\/0 would be every IPv6 address\) \(from -e\)/,
  );
  t.regex(hostBits.stderr, /1::\/0 is every IPv6 address, not a restriction: use adminGui: 'open'/);
  const network = await runCli(['apply', 'scenario-b', '-i', the().inventoryPath, '-l', 'cas-001', '-e', 'hardwareVpnSubnets=10.8.0.5/24']);
  t.is(network.code, 1);
  t.regex(
    network.stderr,
    /hardwareVpnSubnets\.0: 10\.8\.0\.5\/24 has host bits set after \/24: did you mean the network 10\.8\.0\.0\/24, or the host 10\.8\.0\.5\? \(from -e\)/,
  );
  t.is(readFileSync(sshdLog, 'utf8'), logBefore, 'no connection reached the host');
});
