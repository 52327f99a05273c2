import { createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import test from 'ava';
import { parse } from 'yaml';
import { CasfleetError, LabError } from '../../src/errors.ts';
import { cpuHierarchy, labCgroupDir, labCgroupProcesses, labHostsCpuSeconds } from '../../src/lab/lab-cgroups.ts';
import { run } from '../../src/lab/lab-exec.ts';
import { renderLabShadow } from '../../src/lab/lab-host-files.ts';
import { renderLabInventory } from '../../src/lab/lab-inventory.ts';
import { hashKnownHostName } from '../../src/lab/lab-keys.ts';
import {
  assertHostCount,
  assertLabName,
  controllerNetns,
  hostAddress,
  hostLayout,
  hostName,
  hostNetns,
  labHosts,
  labPaths,
  vethName,
} from '../../src/lab/lab-layout.ts';
import { buildListenerSpec } from '../../src/lab/lab-listener.ts';
import { labNetnsIn, listNetns, renderControllerBatch } from '../../src/lab/lab-network.ts';
import { LAB_UNUSED_PORT } from '../../src/lab/lab-ports.ts';
import { isProcessAlive } from '../../src/lab/lab-processes.ts';
import { isHostSshdCmdline } from '../../src/lab/lab-sshd.ts';
import { LabStateSchema } from '../../src/lab/lab-state.ts';
import { labStatus } from '../../src/lab/lab-status.ts';
import { probePorts } from '../../src/net/probe.ts';
import { labUnavailableReason, startLab, stopLab, type TestLab } from '../helpers/lab.ts';

// ---------- pure layout (no root needed) ----------

test('host addresses: 1, 250, 251, 1000', (t) => {
  t.is(hostAddress(1), '10.99.1.1');
  t.is(hostAddress(250), '10.99.1.250');
  t.is(hostAddress(251), '10.99.2.1');
  t.is(hostAddress(1000), '10.99.4.250');
  t.throws(() => hostAddress(0), { instanceOf: LabError });
});

test('names: namespaces, inventory names, veths', (t) => {
  t.is(controllerNetns('default'), 'cfl-default-ctl');
  t.is(hostNetns('t1', 1), 'cfl-t1-h001');
  t.is(hostNetns('t1', 1000), 'cfl-t1-h1000');
  t.is(hostName(7), 'cas-007');
  t.is(hostName(1000), 'cas-1000');
  t.is(vethName(1000), 'vh1000');
  t.deepEqual(hostLayout('x', 250), {
    index: 250,
    id: 'h250',
    name: 'cas-250',
    netns: 'cfl-x-h250',
    address: '10.99.1.250',
    veth: 'vh250',
  });
  const all = labHosts('x', 1000);
  t.is(new Set(all.map((h) => h.address)).size, 1000);
  t.true(all.every((h) => h.veth.length <= 15));
});

test('lab names cannot contain hyphens (cfl-a- must not match lab "a-b")', (t) => {
  t.is(assertLabName('default'), 'default');
  t.throws(() => assertLabName('a-b'), { instanceOf: LabError });
  t.throws(() => assertLabName(''), { instanceOf: LabError });
  t.throws(() => assertLabName('Upper'), { instanceOf: LabError });
  t.deepEqual(labNetnsIn(['cfl-a-ctl', 'cfl-a-h001', 'cfl-ab-ctl', 'cfl-a', 'other'], 'a'), ['cfl-a-ctl', 'cfl-a-h001']);
  t.throws(() => assertHostCount(0), { instanceOf: LabError });
  t.throws(() => assertHostCount(1.5), { instanceOf: LabError });
});

test('labPaths: default dir honours CASFLEET_LAB_DIR', (t) => {
  const previous = process.env.CASFLEET_LAB_DIR;
  process.env.CASFLEET_LAB_DIR = '/var/tmp/labs';
  try {
    const paths = labPaths('demo');
    t.is(paths.inventory, '/var/tmp/labs/demo/inventory.yml');
    t.is(paths.knownHosts, '/var/tmp/labs/demo/known_hosts');
    t.is(paths.mountRoot, '/run/casfleet-lab/demo');
  } finally {
    if (previous === undefined) delete process.env.CASFLEET_LAB_DIR;
    else process.env.CASFLEET_LAB_DIR = previous;
  }
  t.is(labPaths('demo', '/x/y').state, '/x/y/lab.json');
});

test('controller batch: veth peers are born inside host namespaces', (t) => {
  const batch = renderControllerBatch(labHosts('x', 2));
  t.true(batch.includes('link add vh1 type veth peer name eth0 netns cfl-x-h001'));
  t.true(batch.includes('addr add 10.99.0.1/16 dev br0'));
  t.true(batch.includes('addr add 10.8.0.1/24 dev br0'));
  t.true(batch.includes('rule add from 10.98.1.2 table 1002'));
  t.true(batch.includes('route add 10.3.2.1 via 10.99.1.2 dev br0 table 1002'));
});

test('inventory: Ansible YAML with vars, hosts and a canary group', (t) => {
  const hosts = labHosts('x', 3);
  const inventory = parse(
    renderLabInventory({
      labName: 'x',
      controllerNetns: 'cfl-x-ctl',
      privateKeyPath: '/l/id_ed25519',
      knownHostsPath: '/l/known_hosts',
      hosts,
    }),
  );
  t.deepEqual(inventory.all.vars, {
    ansible_user: 'root',
    ansible_ssh_private_key_file: '/l/id_ed25519',
    casfleet_netns: 'cfl-x-ctl',
    casfleet_known_hosts: '/l/known_hosts',
    hardwareVpnSubnets: ['10.8.0.0/24'],
  });
  t.deepEqual(inventory.all.hosts['cas-003'], { ansible_host: '10.99.1.3', casfleet_vpn_probe_from: '10.98.1.3' });
  t.deepEqual(Object.keys(inventory.all.children.canary.hosts), ['cas-001', 'cas-002']);
});

test('hashed known_hosts entries use OpenSSH HMAC-SHA1 format', (t) => {
  const salt = Buffer.alloc(20, 7);
  const expected = createHmac('sha1', salt).update('10.99.1.1').digest('base64');
  t.is(hashKnownHostName('10.99.1.1', salt), `|1|${salt.toString('base64')}|${expected}`);
});

test('lab shadow: every account usable for key login, no hash copied', (t) => {
  t.is(renderLabShadow('root:!:19000:0:99999:7:::\nbob:$y$j9T$abc:19000::::::\n'), 'root:*:19000:0:99999:7:::\nbob:*:19000::::::\n');
});

test('listener spec: gate on the public address, master on 10.3.2.1', (t) => {
  const [host] = buildListenerSpec('/lab', labHosts('x', 1)).hosts;
  t.truthy(host);
  t.is(host?.netns, '/run/netns/cfl-x-h001');
  t.deepEqual(
    host?.sockets.find((s) => s.port === 7741 && s.address === '10.99.1.1'),
    { address: '10.99.1.1', port: 7741, service: 'gate' },
  );
  t.deepEqual(
    host?.sockets.find((s) => s.port === 7747),
    { address: '10.3.2.1', port: 7747, service: 'master' },
  );
});

test('sshd command-line check does not confuse h100 with h1000', (t) => {
  const matches = isHostSshdCmdline('/run/casfleet-lab/x', 'h100');
  t.true(
    matches(
      'sshd: /usr/sbin/sshd -D -f /run/casfleet-lab/x/hosts/h100/sshd_config -E /run/casfleet-lab/x/hosts/h100/sshd.log [listener] 0 of 200-400 startups',
    ),
  );
  t.true(matches('sh /l/host-start.sh /l /run/casfleet-lab/x h100'));
  t.false(matches('sh /l/host-start.sh /l /run/casfleet-lab/x h1000'));
  t.false(matches('sshd: /usr/sbin/sshd -D -f /run/casfleet-lab/x/hosts/h1000/sshd_config -E x'));
});

test('probePorts on loopback: a listening port is open, a free one closed', async (t) => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const free = createServer();
  await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
  const freePort = (free.address() as AddressInfo).port;
  await new Promise<void>((resolve) => free.close(() => resolve()));
  try {
    const results = await probePorts({ address: '127.0.0.1', ports: [port, freePort], timeoutMs: 500 });
    t.deepEqual(
      results.map((r) => r.state),
      ['open', 'closed'],
    );
  } finally {
    server.close();
  }
  await t.throwsAsync(probePorts({ address: '127.0.0.1', ports: [0] }), { instanceOf: CasfleetError, message: /invalid port 0/ });
});

// ---------- the real lab (root) ----------

const unavailable = labUnavailableReason();
const labTest = unavailable ? test.skip : test;
const labSerial = unavailable ? test.skip : test.serial;
let lab: TestLab | undefined;

test.before(async () => {
  if (!unavailable) lab = await startLab({ hosts: 3 });
});

test.after.always(async (t) => {
  if (!lab) return;
  const report = await stopLab(lab);
  t.log(`lab ${lab.name} down: ${report?.deletedNetns.length} namespaces, ${report?.killed.length} processes`);
  const left = labNetnsIn(await listNetns(), lab.name);
  if (left.length > 0) throw new Error(`namespaces left behind: ${left.join(', ')}`);
  const hierarchy = cpuHierarchy();
  if (hierarchy && existsSync(labCgroupDir(hierarchy, lab.name)))
    throw new Error(`CPU cgroups left behind: ${labCgroupDir(hierarchy, lab.name)}`);
  if (straggler !== undefined && isProcessAlive(straggler))
    throw new Error(`process ${straggler}, left running by a session, survived lab down`);
});

const theLab = (): TestLab => {
  if (!lab) throw new Error('lab not started');
  return lab;
};

labTest('lab up records its state and writes inventory + known_hosts', (t) => {
  const l = theLab();
  const state = LabStateSchema.parse(JSON.parse(readFileSync(l.statePath, 'utf8')));
  t.is(state.phase, 'ready');
  t.is(state.hosts.length, 3);
  t.true(state.hosts.every((h) => typeof h.sshdPid === 'number'));
  t.is(typeof state.listenerPid, 'number');
  const knownHosts = readFileSync(l.knownHostsPath, 'utf8').trim().split('\n');
  t.is(knownHosts.length, 3);
  t.regex(knownHosts[0] ?? '', /^10\.99\.1\.1 ssh-ed25519 AAAA\S+$/);
  t.is(parse(readFileSync(l.inventoryPath, 'utf8')).all.vars.casfleet_netns, l.controllerNetns);
  t.log(`lab up (3 hosts): ${JSON.stringify(l.timingsMs)}`);
});

// Checked after lab down (test.after.always): gone with the lab although no recorded process leads to it.
let straggler: number | undefined;
labSerial('a process a session leaves running outside its tree is charged to its host', async (t) => {
  const l = theLab();
  if (cpuHierarchy() === undefined) return t.pass('no CPU cgroup on this machine');
  const started = await l.ssh(3, 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!');
  straggler = Number(started.stdout.trim());
  t.true(Number.isInteger(straggler) && straggler > 0, started.stdout + started.stderr);
  t.true(labCgroupProcesses(l.name).includes(straggler));
});

labSerial('each host is charged the CPU of what its sessions run, and only that host', async (t) => {
  const l = theLab();
  if (cpuHierarchy() === undefined) return t.pass('no CPU cgroup on this machine');
  const before = labHostsCpuSeconds(l.name);
  t.deepEqual([...before.keys()].sort(), ['h001', 'h002', 'h003']);
  // About 0.3 s of CPU in a grandchild of the session (python under sh), as ufw would run.
  const burn = await l.ssh(2, `python3 -c 'import time\nend=time.process_time()+0.3\nwhile time.process_time()<end: pass'`);
  t.is(burn.code, 0, burn.stderr);
  const after = labHostsCpuSeconds(l.name);
  const spent = (id: string) => (after.get(id) ?? 0) - (before.get(id) ?? 0);
  t.true(spent('h002') >= 0.3, `h002 charged ${spent('h002')} s`);
  t.true(spent('h001') < 0.3 && spent('h003') < 0.3, `h001 ${spent('h001')} s, h003 ${spent('h003')} s`);
});

labTest('from the controller: 22 and 7742 open, an unused port closed', async (t) => {
  const results = await theLab().probe(1, [22, 7742, 7741, 13000, LAB_UNUSED_PORT]);
  t.deepEqual(
    results.map((r) => [r.port, r.state]),
    [
      [22, 'open'],
      [7742, 'open'],
      [7741, 'open'],
      [13000, 'open'],
      [LAB_UNUSED_PORT, 'closed'],
    ],
  );
});

labTest('ssh with the lab key and strict known_hosts reads /batm/config/network', async (t) => {
  const l = theLab();
  const result = await l.ssh(1, 'cat /batm/config/network');
  t.is(result.code, 0, result.stderr);
  t.is(result.stdout, 'public_ip=10.99.1.1\nmaster_bind_ip=10.3.2.1\ngate_bind_ip=10.99.1.1\nadmin_bind_ip=10.3.2.2\n');
  // Each host has its own key: host 2's key must not be accepted for host 1's address.
  const second = await l.ssh(2, 'cat /batm/config/network');
  t.regex(second.stdout, /public_ip=10\.99\.1\.2/);
});

labTest('batm-manage info; unknown verbs exit 1', async (t) => {
  const result = await theLab().ssh(1, '/batm/batm-manage info; /batm/batm-manage restart gate; echo "rc=$?"');
  t.is(result.stdout, 'Master: running\nAdmin: running\nGate: running\nAdmin IP: 10.3.2.2:7777\nrc=1\n');
  t.regex(result.stderr, /Usage/);
});

labTest('a fresh host: ufw inactive, private /etc/ufw, clean /root, no other namespaces pinned', async (t) => {
  const l = theLab();
  const result = await l.ssh(1, 'ufw status; grep ^ENABLED /etc/ufw/ufw.conf; ls -A /root; stat -c %a /batm/config/vpn');
  t.is(result.stdout, 'Status: inactive\nENABLED=no\n.bashrc\n.profile\n640\n');
  // The host's mount namespace must hold no nsfs mounts, or it would keep other namespaces alive.
  const mounts = await l.exec(1, ['cat', '/proc/self/mountinfo']);
  t.false(
    mounts.stdout.includes('nsfs'),
    mounts.stdout
      .split('\n')
      .filter((line) => line.includes('nsfs'))
      .join('\n'),
  );
});

labTest('/etc writes (atomic renames included) stay on that host', async (t) => {
  const l = theLab();
  const marker = `/etc/casfleet-${l.name}`;
  const edit = await l.ssh(2, `sed -i 's/^IPV6=yes/IPV6=no/' /etc/default/ufw && touch ${marker} && grep ^IPV6= /etc/default/ufw`);
  t.is(edit.stdout, 'IPV6=no\n', edit.stderr);
  t.is((await l.ssh(1, `grep ^IPV6= /etc/default/ufw; ls ${marker} 2>/dev/null; true`)).stdout, 'IPV6=yes\n');
  t.false(existsSync(marker));
});

labTest('firewall.rules is idempotent and logs each time it is sourced', async (t) => {
  const result = await theLab().ssh(
    2,
    '. /batm/vpngen/firewall.rules; . /batm/vpngen/firewall.rules; iptables -t nat -S PREROUTING | grep -c batm-vpn-lb; wc -l < /batm/logs/firewall-rules.log',
  );
  t.is(result.stdout, '1\n2\n');
});

labTest('ufw enabled on one host filters there only, never in the root namespace', async (t) => {
  const l = theLab();
  const rootRulesBefore = (await run(['iptables', '-S'])).stdout;
  const enable = await l.ssh(
    3,
    'ufw allow 22/tcp >/dev/null && ufw allow from 10.8.0.0/24 to any port 7741 proto tcp >/dev/null && ufw --force enable >/dev/null && ufw status | head -1',
  );
  t.is(enable.stdout, 'Status: active\n', enable.stderr);
  const [fromLan, fromVpnRouter, neighbour] = await Promise.all([
    l.probe(3, [22, 7741, 7777]),
    l.probe(3, [7741], { sourceAddress: '10.8.0.1' }),
    l.probe(2, [7741]),
  ]);
  t.deepEqual(
    fromLan.map((r) => r.state),
    ['open', 'filtered', 'filtered'],
  );
  t.is(fromVpnRouter[0]?.state, 'open');
  t.is(neighbour[0]?.state, 'open');
  // Other processes may change the root firewall meanwhile; ufw's chains must not have appeared there.
  if (!rootRulesBefore.includes('ufw-')) t.false((await run(['iptables', '-S'])).stdout.includes('ufw-'));
  t.regex(readFileSync('/etc/ufw/ufw.conf', 'utf8'), /^ENABLED=no$/m);
});

labSerial('batm-manage stop gate closes 7741; start gate reopens it', async (t) => {
  const l = theLab();
  const waitFor = async (state: string): Promise<string | undefined> => {
    for (let i = 0; i < 40; i++) {
      const [result] = await l.probe(1, [7741]);
      if (result?.state === state) return state;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return (await l.probe(1, [7741]))[0]?.state;
  };
  t.is((await l.ssh(1, '/batm/batm-manage stop gate')).code, 0);
  t.is(await waitFor('closed'), 'closed');
  t.regex((await l.ssh(1, '/batm/batm-manage info')).stdout, /Gate: stopped/);
  t.is((await l.ssh(1, '/batm/batm-manage start gate')).code, 0);
  t.is(await waitFor('open'), 'open');
  t.regex((await l.ssh(1, 'cat /batm/logs/batm-manage.log')).stdout, /stop gate\n.*info\n.*start gate/);
});

labTest('labStatus: every host present, alive and answering', async (t) => {
  const status = await labStatus({ name: theLab().name, dir: theLab().dir });
  t.true(status.healthy, JSON.stringify(status, null, 2));
  t.deepEqual(
    status.hosts.map((h) => h.name),
    ['cas-001', 'cas-002', 'cas-003'],
  );
});
