// npx tsx bench/fake-fleet/record-scenario.ts [lab name]: records what a real 1-host lab answers to
// `apply scenario-a` then its no-op re-run (through record-proxy.ts), into scenario-a.recording.json,
// the script the fake fleet replays. Re-run it when casfleet's remote commands change.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown } from '../../src/lab/lab-down.ts';
import { CONTROLLER_ADDRESS } from '../../src/lab/lab-layout.ts';
import { labUp } from '../../src/lab/lab-up.ts';
import { fleetClientKey, writeFleetKnownHosts } from './fleet-keys.ts';
import { runCli } from './run-cli.ts';

const RECORDING = fileURLToPath(new URL('./scenario-a.recording.json', import.meta.url));
const PROXY_ADDRESS = '127.0.0.2';
const name = process.argv[2] ?? 'hz';
const dir = mkdtempSync(join(tmpdir(), 'casfleet-record-'));
const lab = await labUp({ name, hosts: 1 });
let proxy: ReturnType<typeof spawn> | undefined;
try {
  const host = lab.hosts[0]!;
  proxy = spawn(
    'nsenter',
    [
      `--net=/run/netns/${lab.controllerNetns}`,
      process.execPath,
      `--import=${import.meta.resolve('tsx')}`,
      fileURLToPath(new URL('./record-proxy.ts', import.meta.url)),
      PROXY_ADDRESS,
      host.address,
      CONTROLLER_ADDRESS,
      lab.privateKeyPath,
      RECORDING,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const started = proxy;
  await new Promise<void>((resolve, reject) => {
    started.stdout?.once('data', () => resolve());
    started.once('exit', (code) => reject(new Error(`record proxy exited ${code}`)));
  });
  const knownHosts = join(dir, 'known_hosts');
  writeFleetKnownHosts(knownHosts, [PROXY_ADDRESS]);
  const inventory = join(dir, 'inventory.yml');
  writeFileSync(
    inventory,
    `all:\n  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: ${fleetClientKey().privateKeyPath}\n    casfleet_known_hosts: ${knownHosts}\n  hosts:\n    cas-001:\n      ansible_host: ${PROXY_ADDRESS}\n`,
  );
  for (const round of ['first apply', 'no-op re-run']) {
    const result = await runCli(lab.controllerNetns, ['apply', 'scenario-a', '-i', inventory, '--no-probe', '--json']);
    if (result.code !== 0) throw new Error(`${round} exited ${result.code}: ${result.stdout.slice(-2000)}${result.stderr}`);
  }
  // SIGTERM is the proxy's cue to write the recording: only once every round passed.
  const exited = new Promise((resolve) => started.once('exit', resolve));
  started.kill('SIGTERM');
  await exited;
  process.stdout.write(`recorded into ${RECORDING}\n`);
} finally {
  // A failed round must not leave the proxy running, nor make it write a recording of the failure.
  if (proxy && proxy.exitCode === null && proxy.signalCode === null) proxy.kill('SIGKILL');
  await labDown({ name });
}
