// Bad input: an inventory of 5,000 hosts with one YAML error at its end, -e values carrying shell
// metacharacters and newlines, a 50 MB gate.properties, a binary VPN file, and a host that sends the
// SSH banner and then nothing next to a healthy one. Nothing may run that was not meant to, every
// host ends old or new with nothing lost, and a later run converges.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseDocument } from 'yaml';
import { DEFAULT_READY_TIMEOUT_MS } from '../../src/ssh/handshake.ts';
import { jsonEvents, recapOf, runCli } from '../helpers/cli.ts';
import { assertRow, faultLab, SCENARIO_B, startCasfleet } from './fault-kit.ts';

const { run, the, kit } = faultLab({ hosts: 3, prefix: 'finput' });
const PWNED = '/tmp/casfleet-fault-pwned';
/** Scheduling slack on a loaded 2-core machine; a second login attempt or a late timer would exceed it. */
const LOGIN_BOUND_SLACK_MS = 3_000;

run('an inventory of 5,000 hosts with a YAML error at its end contacts nobody', async (t) => {
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const hosts = Array.from(
    { length: 5000 },
    (_, index) => `    cas-${index + 1}:\n      ansible_host: 127.0.0.1\n      ansible_port: ${port}\n`,
  ).join('');
  const path = join(kit.stateDir, 'fleet-5000.yml');
  writeFileSync(path, `all:\n  hosts:\n${hosts}  vars:\n    hardwareVpnSubnets: [10.8.0.0/24\n`);
  const lines = readFileSync(path, 'utf8').split('\n').length;
  const startedAt = Date.now();
  const result = await runCli(['apply', 'scenario-a', '-i', path, '--yes'], { env: kit.env() });
  const detectionMs = Date.now() - startedAt;
  server.close();
  const positioned = new RegExp(`fleet-5000\\.yml:(${lines - 1}|${lines}):\\d+`).test(result.stderr + result.stdout);
  assertRow(
    t,
    {
      fault: 'inventory: 5,000 hosts, YAML error at the end',
      phase: 'loading',
      hosts: 5000,
      consistent: result.code !== 0 && connections === 0 && positioned,
      dataLost: false,
      converged: true,
      detectionMs,
      ending: `refused, ${connections} contacted`,
    },
    `exit ${result.code}, ${connections} connections\n${result.stderr}${result.stdout}`,
  );
});

run('-e values with shell metacharacters and newlines run nothing', async (t) => {
  const host = 'cas-001';
  const start = await kit.prepare(host);
  const hostile = [
    `hardwareVpnSubnets=10.8.0.0/24$(touch ${PWNED})`,
    `hardwareVpnSubnets=10.8.0.0/24\ntouch ${PWNED}`,
    `sshPort=22;touch ${PWNED}`,
    `note=\`touch ${PWNED}\`\n$(touch ${PWNED})`,
  ];
  const startedAt = Date.now();
  const results: Awaited<ReturnType<typeof kit.casfleet>>[] = [];
  for (const value of hostile) results.push(await kit.casfleet(['apply', 'scenario-b', '-l', host, '-e', value]));
  const detectionMs = (Date.now() - startedAt) / hostile.length;
  const ranOnHost = (await kit.onHost(host, `ls ${PWNED} 2>/dev/null || :`)).trim() !== '';
  const ranHere = readFileSafe(PWNED);
  const verdict = await kit.judge(host, start);
  const converged = await kit.converges(host);
  assertRow(
    t,
    {
      fault: '-e values with metacharacters, newlines',
      phase: 'loading',
      hosts: 1,
      consistent: verdict.consistent && !ranOnHost && !ranHere,
      dataLost: verdict.dataLost,
      converged,
      detectionMs,
      ending: `${verdict.ending}; exits ${results.map((r) => r.code).join(',')}`,
    },
    results.map((r) => `exit ${r.code}: ${r.stderr}${r.stdout}`).join('\n'),
  );
});

const readFileSafe = (path: string): boolean => {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
};

run('a 50 MB gate.properties', async (t) => {
  const host = 'cas-002';
  await kit.onHost(
    host,
    "yes '# padding written by the fault suite, kept as it is' | head -c 52428800 >> /batm/config/gate.properties && echo >> /batm/config/gate.properties",
  );
  const start = await kit.prepare(host);
  const startedAt = Date.now();
  const result = await kit.casfleet(['apply', ...SCENARIO_B, '-l', host], { timeoutMs: 600_000 });
  const detectionMs = Date.now() - startedAt;
  const verdict = await kit.judge(host, start);
  // casfleet refuses a file this size before changing anything; the same refusal on a re-run is
  // what converging means here (the host stays as it is until someone trims the file).
  const refused = (output: string) => /gate\.properties is too large \(\d+ bytes\) to edit.*nothing was changed/.test(output);
  const again = await kit.casfleet(['apply', ...SCENARIO_B, '-l', host]);
  const size = Number((await kit.onHost(host, 'stat -c %s /batm/config/gate.properties')).trim());
  assertRow(
    t,
    {
      fault: 'gate.properties of 50 MB',
      phase: 'whole run',
      hosts: 1,
      consistent: verdict.ending === 'old' && refused(result.stdout) && size > 50_000_000,
      dataLost: verdict.dataLost,
      converged: refused(again.stdout) && isDeepStrictEqual(await kit.hostState(host), start.before),
      detectionMs,
      ending: `${verdict.ending}: refused as too large`,
    },
    `${result.stderr}${result.stdout.slice(-4000)}`,
  );
});

run('a binary VPN file and a host that sends the SSH banner and then nothing', async (t) => {
  const host = 'cas-003';
  await kit.onHost(
    host,
    'head -c 65536 /dev/urandom > /batm/config/vpn.new && chmod 640 /batm/config/vpn.new && mv /batm/config/vpn.new /batm/config/vpn',
  );
  const start = await kit.prepare(host);
  // The silent host: a listener inside the lab's controller namespace (its own loopback).
  const silent = spawn('ip', ['netns', 'exec', the().controllerNetns, 'python3', '-c', BANNER_ONLY], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve) => silent.stdout.once('data', resolve));
    let acceptedAt = 0;
    silent.stdout.on('data', () => (acceptedAt ||= Date.now()));
    const inventory = parseDocument(readFileSync(the().inventoryPath, 'utf8'));
    inventory.setIn(['all', 'hosts', 'silent'], { ansible_host: '127.0.0.1', ansible_port: 2299 });
    const path = join(kit.stateDir, 'with-silent.yml');
    writeFileSync(path, inventory.toString());
    const casfleet = startCasfleet(kit, { ...the(), inventoryPath: path }, ['apply', ...SCENARIO_B, '-l', `${host},silent`, '--yes']);
    const ended = await casfleet.done;
    // casfleet's own clock, from the silent host's connect start to giving it up: events reach this
    // process late whenever it is busy (the 50 MB fault beside it reads that file back several times).
    const detectionMs = casfleet.events.find(({ event }) => event.type === 'host-end' && event.host === 'silent')?.event.durationMs as
      | number
      | undefined;
    const seenHereMs = (casfleet.reportedAt('silent', acceptedAt) ?? Date.now()) - acceptedAt;
    const recap = recapOf(ended.stdout);
    const confirmed = jsonEvents(ended.stdout).some(
      (event) => event.type === 'step' && event.kind === 'transaction' && event.host === host && event.status === 'ok',
    );
    const verdict = await kit.judge(host, start);
    const converged = await kit.converges(host);
    const details = `${ended.stderr}${ended.stdout}`;
    const withinBound = detectionMs !== undefined && detectionMs <= DEFAULT_READY_TIMEOUT_MS + LOGIN_BOUND_SLACK_MS;
    assertRow(
      t,
      {
        fault: 'binary VPN file; a banner-only host beside it',
        phase: 'whole run',
        hosts: 2,
        consistent: verdict.ending === 'new' && confirmed && recap.silent?.unreachable === 1 && withinBound,
        dataLost: verdict.dataLost,
        converged,
        detectionMs,
        ending: `${host} ${verdict.ending}, silent unreachable (seen here ${(seenHereMs / 1000).toFixed(1)} s after its accept)`,
      },
      details,
    );
    t.true(
      withinBound,
      `the banner-only host is given up within its ${DEFAULT_READY_TIMEOUT_MS} ms login timeout from its connect start (took ${detectionMs} ms)`,
    );
  } finally {
    silent.kill();
  }
});

const BANNER_ONLY = `
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(('127.0.0.1', 2299))
server.listen(16)
print('listening', flush=True)
held = []
while True:
    conn, _ = server.accept()
    print('accepted', flush=True)
    conn.sendall(b'SSH-2.0-OpenSSH_9.6\\r\\n')
    held.append(conn)
`;
