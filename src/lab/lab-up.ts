// `casfleet lab up`: build N simulated CAS servers on this machine. Order matters:
// leftovers down → state file → namespaces → files and keys → sshds → listener → inventory.
// lab.json is rewritten as soon as anything is started, so `lab down` can clean up after a crash;
// a failed `lab up` tears itself down before rethrowing.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.ts';
import { ensureBatmMountpoint } from './lab-batm-mountpoint.ts';
import { mapLimit } from './lab-exec.ts';
import { labDown } from './lab-down.ts';
import { loadBatmManage, loadUfwTemplate, renderLabShadow, writeHostTree } from './lab-host-files.ts';
import { renderLabInventory } from './lab-inventory.ts';
import { generateKeys, readPublicKey, renderHashedKnownHosts, renderKnownHosts } from './lab-keys.ts';
import {
  DEFAULT_LAB_NAME,
  assertHostCount,
  assertLabName,
  controllerNetns,
  defaultLabDir,
  hostRelativePaths,
  labHosts,
  labPaths,
  type LabHostLayout,
} from './lab-layout.ts';
import { startListener } from './lab-listener.ts';
import { createLabNetwork, labNetnsIn, listNetns } from './lab-network.ts';
import { checkLabDir, checkLabPrerequisites } from './lab-preflight.ts';
import { installHostStartScript, spawnSshds, waitForSshds } from './lab-sshd.ts';
import { writeLabState, type LabState } from './lab-state.ts';

export interface LabUpOptions {
  readonly name?: string;
  readonly hosts: number;
  /** Default: ${CASFLEET_LAB_DIR:-$HOME/.local/state/casfleet/lab}/<name> */
  readonly dir?: string;
  /** Leave a half-built lab in place on failure, for debugging (then run labDown). Default false. */
  readonly keepOnFailure?: boolean;
}

export interface LabInfo {
  readonly name: string;
  readonly dir: string;
  readonly controllerNetns: string;
  readonly hosts: readonly LabHostLayout[];
  readonly inventoryPath: string;
  readonly knownHostsPath: string;
  readonly knownHostsHashedPath: string;
  readonly privateKeyPath: string;
  readonly statePath: string;
  /** Wall-clock time per stage and in total, for the report (`total`). */
  readonly timingsMs: Readonly<Record<string, number>>;
}

export const labUp = async (options: LabUpOptions): Promise<LabInfo> => {
  const name = assertLabName(options.name ?? DEFAULT_LAB_NAME);
  const hostCount = assertHostCount(options.hosts);
  checkLabPrerequisites();
  const dir = options.dir ?? defaultLabDir(name);
  checkLabDir(dir);
  const paths = labPaths(name, dir);
  const hosts = labHosts(name, hostCount);
  const ctl = controllerNetns(name);

  const timings: Record<string, number> = {};
  const started = Date.now();
  let mark = started;
  const lap = (stage: string): void => {
    const now = Date.now();
    timings[stage] = now - mark;
    mark = now;
  };

  // lab.json is written before any namespace exists, so namespaces without it mean the lab was built
  // from another directory: its processes are recorded there, and tearing down from here would
  // orphan them.
  const existing = labNetnsIn(await listNetns(), name);
  if (existing.length > 0 && !existsSync(paths.state)) {
    throw new LabError(
      `lab "${name}" is up from another directory (${existing[0]} exists, ${paths.state} does not): run lab down with the directory it was started with`,
    );
  }
  await labDown({ name, dir });
  lap('teardownLeftovers');

  mkdirSync(paths.hostsDir, { recursive: true, mode: 0o700 });
  const state: LabState = {
    version: 1,
    name,
    dir: paths.dir,
    mountRoot: paths.mountRoot,
    phase: 'building',
    createdAt: new Date().toISOString(),
    hostCount,
    controllerNetns: ctl,
    hosts: hosts.map(({ index, id, name: hostName, netns, address }) => ({ index, id, name: hostName, netns, address, sshdPid: null })),
    listenerPid: null,
    createdBatmDir: false,
  };
  const save = (): void => writeLabState(paths.state, state);
  save();

  try {
    // Three independent jobs, overlapped: disk writes (I/O-bound), ssh-keygen (process-bound) and
    // the namespaces (kernel). They only share the per-host directories, created first.
    for (const host of hosts) mkdirSync(join(paths.dir, hostRelativePaths(host.id).base), { recursive: true });
    const timed = async (stage: string, job: () => Promise<void>): Promise<void> => {
      const begin = Date.now();
      await job();
      timings[stage] = Date.now() - begin;
    };
    // allSettled: on a failure, the other jobs must finish before the teardown below starts.
    const settled = await Promise.allSettled([
      timed('files', async () => {
        const ufwTemplate = loadUfwTemplate();
        const batmManage = loadBatmManage();
        await mapLimit(hosts, 16, (host) => writeHostTree({ dir: paths.dir, mountRoot: paths.mountRoot, host, ufwTemplate, batmManage }));
        writeFileSync(paths.shadow, renderLabShadow(readFileSync('/etc/shadow', 'utf8')), { mode: 0o640 });
        installHostStartScript(paths);
      }),
      timed('keys', async () => {
        await generateKeys([
          { path: paths.privateKey, comment: `casfleet-lab-${name}` },
          ...hosts.map((host) => ({ path: join(paths.dir, hostRelativePaths(host.id).hostKey), comment: `${host.name}.lab` })),
        ]);
        writeFileSync(paths.authorizedKeys, `${readPublicKey(paths.privateKey)}\n`);
        const knownHostEntries = hosts.map((host) => ({
          address: host.address,
          publicKeyLine: readPublicKey(join(paths.dir, hostRelativePaths(host.id).hostKey)),
        }));
        writeFileSync(paths.knownHosts, renderKnownHosts(knownHostEntries));
        writeFileSync(paths.knownHostsHashed, renderHashedKnownHosts(knownHostEntries));
      }),
      timed('network', () => createLabNetwork({ controllerNetns: ctl, hosts, dir: paths.dir })),
    ]);
    const failed = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    lap('prepare');

    // After our namespaces exist, so a concurrent `lab down` of another lab sees us and keeps /batm.
    state.createdBatmDir = ensureBatmMountpoint();
    save();

    const sshds = spawnSshds(name, paths, hosts);
    sshds.forEach(({ pid }, i) => {
      (state.hosts[i] as LabState['hosts'][number]).sshdPid = pid;
    });
    save();
    await waitForSshds(paths, sshds);
    lap('sshd');

    await startListener(paths, hosts, (pid) => {
      state.listenerPid = pid;
      save();
    });
    lap('listener');

    writeFileSync(
      paths.inventory,
      renderLabInventory({
        labName: name,
        controllerNetns: ctl,
        privateKeyPath: paths.privateKey,
        knownHostsPath: paths.knownHosts,
        hosts,
      }),
    );
    timings.total = Date.now() - started;
    state.phase = 'ready';
    state.timingsMs = timings;
    save();
  } catch (error) {
    if (!options.keepOnFailure) {
      await labDown({ name, dir }).catch(() => {});
    }
    if (error instanceof LabError) throw error;
    throw new LabError(`lab up "${name}" failed: ${(error as Error).message}`, { cause: error });
  }

  return {
    name,
    dir: paths.dir,
    controllerNetns: ctl,
    hosts,
    inventoryPath: paths.inventory,
    knownHostsPath: paths.knownHosts,
    knownHostsHashedPath: paths.knownHostsHashed,
    privateKeyPath: paths.privateKey,
    statePath: paths.state,
    timingsMs: timings,
  };
};
