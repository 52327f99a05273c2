// Brings up a fake fleet of N hosts: its namespaces, known_hosts, an inventory and a few low-priority
// fleet-server processes (nice 19: real hosts have their own CPUs) sharing the addresses.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fleetClientKey, writeFleetKnownHosts } from './fleet-keys.ts';
import { createFleetNetns, deleteFleetNetns, type FleetNetns } from './fleet-netns.ts';

export const RECORDING_PATH = fileURLToPath(new URL('./scenario-a.recording.json', import.meta.url));

export interface FakeFleet extends FleetNetns {
  readonly inventoryPath: string;
  readonly knownHostsPath: string;
  stop(): Promise<void>;
}

export const hostName = (index: number): string => `fake-${String(index + 1).padStart(4, '0')}`;

const startServer = (netns: string, addresses: readonly string[]): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL('./fleet-server.ts', import.meta.url));
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${netns}`,
        'nice',
        '-n',
        '19',
        process.execPath,
        `--import=${import.meta.resolve('tsx')}`,
        script,
        RECORDING_PATH,
        addresses.join(','),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`fake fleet server exited ${code}`)));
  });

const stopServer = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

export const startFakeFleet = async ({
  prefix,
  hosts,
  processes = 2,
}: {
  prefix: string;
  hosts: number;
  processes?: number;
}): Promise<FakeFleet> => {
  await deleteFleetNetns(prefix);
  const dir = mkdtempSync(join(tmpdir(), `casfleet-fake-fleet-${prefix}-`));
  const servers: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map(stopServer));
    await deleteFleetNetns(prefix);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const netns = await createFleetNetns(prefix, hosts);
    const knownHostsPath = join(dir, 'known_hosts');
    writeFleetKnownHosts(knownHostsPath, netns.addresses);
    const inventoryPath = join(dir, 'inventory.yml');
    writeFileSync(
      inventoryPath,
      [
        'all:',
        '  vars:',
        '    ansible_user: root',
        `    ansible_ssh_private_key_file: ${fleetClientKey().privateKeyPath}`,
        `    casfleet_known_hosts: ${knownHostsPath}`,
        '  hosts:',
        ...netns.addresses.map((address, index) => `    ${hostName(index)}: { ansible_host: ${address} }`),
        '',
      ].join('\n'),
    );
    const shares = Array.from({ length: processes }, (_, k) => netns.addresses.filter((_, i) => i % processes === k)).filter(
      (share) => share.length > 0,
    );
    for (const share of shares) servers.push(await startServer(netns.fleet, share));
    return { ...netns, inventoryPath, knownHostsPath, stop };
  } catch (error) {
    await stop();
    throw error;
  }
};
