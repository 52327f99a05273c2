// The network between the controller and the hosts, in a lab of its own (the cut drops every host's
// traffic): the controller's network cut for 30 s between two changes, then restored; and 300 ms of
// latency with 5 % packet loss for a whole run. This kernel has no netem qdisc: the loss is iptables'
// statistic match in the controller's namespace, the latency a userspace TCP relay there that holds
// every chunk 150 ms each way (casfleet reaches the host's sshd through it; the host key is the
// host's own, recorded for the relay's address).
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDocument } from 'yaml';
import { run as exec } from '../../src/lab/lab-exec.ts';
import { recapOf } from '../helpers/cli.ts';
import { assertRow, assertSettledRow, faultLab, KEEPALIVE_BOUND_MS, reportedOutcome, SCENARIO_B, startCasfleet } from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 2, prefix: 'fnet' });
const RELAY_PORT = 2298;

const apply = (host: string, rollback: string) => ['apply', ...SCENARIO_B, '-l', host, '--rollback-timeout', rollback];

/** iptables rules in the controller's namespace, for traffic to and from one host; returns their removal. */
const controllerRules = async (host: string, match: readonly string[]) => {
  const address = the().host(host).address;
  const rules = [
    ['OUTPUT', '-d', address, ...match, '-j', 'DROP'],
    ['INPUT', '-s', address, ...match, '-j', 'DROP'],
  ];
  const iptables = async (action: string, rule: readonly string[]) => {
    const result = await exec(['ip', 'netns', 'exec', the().controllerNetns, 'iptables', '-w', action, ...rule]);
    if (result.code !== 0) throw new Error(`iptables ${action} ${rule.join(' ')}: ${result.stderr}`);
  };
  for (const rule of rules) await iptables('-I', rule);
  return async () => {
    for (const rule of rules) await iptables('-D', rule);
  };
};

run("the controller's network cut for 30 s between two changes", async (t) => {
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
  t.true(detectionMs <= KEEPALIVE_BOUND_MS, `the cut connection is given up within the keepalive bound (took ${detectionMs} ms)`);
  await assertSettledRow(t, kit, host, start, result, { fault: 'controller network cut 30 s', phase: 'between-changes', detectionMs });
});

/** A relay from 127.0.0.1:RELAY_PORT in the controller's namespace to the host's sshd, 150 ms each way. */
const DELAY_RELAY = (target: string) => `
import asyncio, time
DELAY = 0.15
async def pump(reader, writer):
    queue = asyncio.Queue()
    async def send():
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0, due - time.monotonic()))
            if not data:
                writer.close()
                return
            writer.write(data)
            await writer.drain()
    sender = asyncio.ensure_future(send())
    while True:
        data = await reader.read(65536)
        await queue.put((time.monotonic() + DELAY, data))
        if not data:
            break
    await sender
async def handle(client_reader, client_writer):
    server_reader, server_writer = await asyncio.open_connection('${target}', 22)
    await asyncio.gather(pump(client_reader, server_writer), pump(server_reader, client_writer), return_exceptions=True)
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', ${RELAY_PORT})
    print('listening', flush=True)
    await server.serve_forever()
asyncio.run(main())
`;

const BANNER_TIME = `
import socket, time
started = time.monotonic()
conn = socket.create_connection(('127.0.0.1', ${RELAY_PORT}))
conn.recv(64)
print(time.monotonic() - started)
`;

run('300 ms latency and 5 % packet loss for a whole run', async (t) => {
  const host = 'cas-002';
  const { address } = the().host(host);
  const start = await kit.prepare(host);
  const relay = spawn('ip', ['netns', 'exec', the().controllerNetns, 'python3', '-c', DELAY_RELAY(address)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve) => relay.stdout.once('data', resolve));
    // The relay does delay: sshd's banner, one way through it, takes at least its 150 ms.
    const banner = await exec(['ip', 'netns', 'exec', the().controllerNetns, 'python3', '-c', BANNER_TIME]);
    t.true(Number(banner.stdout) >= 0.15, `the banner came through the relay in ${banner.stdout.trim()} s`);
    const lift = await controllerRules(host, ['-m', 'statistic', '--mode', 'random', '--probability', '0.05']);
    // casfleet dials the relay; the host's key is vouched for at the relay's address too.
    const hostKey = readFileSync(the().knownHostsPath, 'utf8')
      .split('\n')
      .find((line) => line.split(' ')[0] === address);
    if (!hostKey) throw new Error(`no known_hosts line for ${address}`);
    appendFileSync(the().knownHostsPath, `[127.0.0.1]:${RELAY_PORT} ${hostKey.split(' ').slice(1).join(' ')}\n`);
    const inventory = parseDocument(readFileSync(the().inventoryPath, 'utf8'));
    inventory.setIn(['all', 'hosts', host, 'ansible_host'], '127.0.0.1');
    inventory.setIn(['all', 'hosts', host, 'ansible_port'], RELAY_PORT);
    const path = join(kit.stateDir, 'through-relay.yml');
    writeFileSync(path, inventory.toString());
    const startedAt = Date.now();
    // No probe from outside: the relay's address is not the host's.
    const casfleet = startCasfleet(kit, { ...the(), inventoryPath: path }, [...apply(host, '60s'), '--no-probe']);
    const result = await casfleet.done;
    const tookMs = Date.now() - startedAt;
    await kit.untilSettled(host, 120_000);
    const verdict = await kit.judge(host, start);
    await lift();
    const outcome = reportedOutcome(verdict.ending, recapOf(result.stdout)[host]);
    const converged = await kit.converges(host);
    assertRow(
      t,
      {
        fault: '300 ms latency, 5 % loss',
        phase: 'whole run',
        hosts: 1,
        consistent: outcome.ok,
        dataLost: verdict.dataLost,
        converged,
        detectionMs: tookMs,
        ending: `${verdict.ending}, reported ${outcome.said}`,
      },
      `${result.stdout}${result.stderr}\n${verdict.now.files}`,
    );
  } finally {
    relay.kill();
  }
});
