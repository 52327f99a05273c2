// `casfleet lab up`: build N simulated CAS servers on this machine. Order matters:
// leftovers down → state file → namespaces → files and keys → sshds → listener → inventory.
// lab.json is rewritten as soon as anything is started, so `lab down` can clean up after a crash;
// a failed `lab up` tears itself down before rethrowing.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LabError } from '../errors.ts';
import { ensureBatmMountpoint } from './lab-batm-mountpoint.ts';
import { labDown } from './lab-down.ts';
import { mapLimit, runChecked } from './lab-exec.ts';
import { loadBatmManage, loadUfwTemplate, renderLabShadow, writeHostTree } from './lab-host-files.ts';
import { renderLabInventory, renderLabSshConfig } from './lab-inventory.ts';
import { generateKeys, readPublicKey, renderHashedKnownHosts, renderKnownHosts } from './lab-keys.ts';
import {
  assertHostCount,
  assertLabName,
  controllerNetns,
  DEFAULT_LAB_NAME,
  defaultLabDir,
  hostLayout,
  hostRelativePaths,
  type LabHostLayout,
  labHosts,
  labPaths,
} from './lab-layout.ts';
import { startListener } from './lab-listener.ts';
import { createLabNetwork, labNetnsIn, listNetns } from './lab-network.ts';
import { hashOpsPassword, newOpsPassword, OPS_AUTHORIZED_KEYS, opsShadowLine } from './lab-ops-account.ts';
import { checkLabDir, checkLabPrerequisites } from './lab-preflight.ts';
import { installHostStartScript, spawnSshds, waitForSshds } from './lab-sshd.ts';
import { type LabState, writeLabState } from './lab-state.ts';

export interface LabUpOptions {
  readonly name?: string;
  readonly hosts: number;
  /** Default: ${CASFLEET_LAB_DIR:-$HOME/.local/state/casfleet/lab}/<name> */
  readonly dir?: string;
  /** Leave a half-built lab in place on failure, for debugging (then run labDown). Default false. */
  readonly keepOnFailure?: boolean;
  /**
   * Add a jump host (`bastion`, an extra namespace with sshd) and make the last N hosts reachable
   * only through it: the controller cannot reach them directly. Default 0: no bastion.
   */
  readonly behindBastion?: number;
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
  /** OpenSSH client config with an alias per host (cas-001 → its address, key and known_hosts). */
  readonly sshConfigPath: string;
  /** The `ops` account's sudo password, in a 0600 file. */
  readonly becomePasswordPath: string;
  /** The jump host, when behindBastion > 0, and the hosts only it can reach. */
  readonly bastion?: LabHostLayout;
  readonly behindBastion: readonly string[];
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
  const fleet = labHosts(name, hostCount);
  const behindCount = options.behindBastion ?? 0;
  if (!Number.isInteger(behindCount) || behindCount < 0 || behindCount > hostCount) {
    throw new LabError(`behind-bastion must be a whole number from 0 to the host count (${hostCount}), got ${behindCount}`);
  }
  // The bastion is one more lab host (own namespace, sshd, key), named for what it is and left out of the inventory.
  const bastion = behindCount > 0 ? { ...hostLayout(name, hostCount + 1), name: 'bastion' } : undefined;
  const behind = fleet.slice(hostCount - behindCount);
  const hosts = bastion ? [...fleet, bastion] : fleet;
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
        const opsPassword = newOpsPassword();
        writeFileSync(paths.becomePassword, `${opsPassword}\n`, { mode: 0o600 });
        writeFileSync(
          paths.shadow,
          renderLabShadow(readFileSync('/etc/shadow', 'utf8')) + opsShadowLine(await hashOpsPassword(opsPassword)),
          { mode: 0o640 },
        );
        installHostStartScript(paths);
      }),
      timed('keys', async () => {
        await generateKeys([
          { path: paths.privateKey, comment: `casfleet-lab-${name}` },
          ...hosts.map((host) => ({ path: join(paths.dir, hostRelativePaths(host.id).hostKey), comment: `${host.name}.lab` })),
        ]);
        writeFileSync(paths.authorizedKeys, `${readPublicKey(paths.privateKey)}\n`);
        for (const host of hosts) {
          const copy = join(paths.dir, hostRelativePaths(host.id).etcUpper, OPS_AUTHORIZED_KEYS.replace(/^\/etc\//, ''));
          mkdirSync(dirname(copy), { recursive: true });
          writeFileSync(copy, `${readPublicKey(paths.privateKey)}\n`, { mode: 0o644 });
        }
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
    // Hosts behind the bastion: the controller's own packets to them are refused; the bastion's
    // cross the bridge, which the controller's OUTPUT chain never sees.
    for (const host of behind) {
      await runChecked(`hiding ${host.name} behind the bastion`, [
        'ip',
        'netns',
        'exec',
        ctl,
        'iptables',
        '-A',
        'OUTPUT',
        '-d',
        host.address,
        '-j',
        'REJECT',
      ]);
    }
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

    await startListener(paths, fleet, (pid) => {
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
        hosts: fleet,
        ...(bastion ? { bastion: { address: bastion.address, behind: behind.map((host) => host.name) } } : {}),
      }),
    );
    writeFileSync(
      paths.sshConfig,
      renderLabSshConfig({
        labName: name,
        privateKeyPath: paths.privateKey,
        knownHostsPath: paths.knownHosts,
        hosts: fleet,
        ...(bastion ? { bastion, behind: behind.map((host) => host.name) } : {}),
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
    hosts: fleet,
    inventoryPath: paths.inventory,
    knownHostsPath: paths.knownHosts,
    knownHostsHashedPath: paths.knownHostsHashed,
    privateKeyPath: paths.privateKey,
    statePath: paths.state,
    sshConfigPath: paths.sshConfig,
    becomePasswordPath: paths.becomePassword,
    ...(bastion ? { bastion } : {}),
    behindBastion: behind.map((host) => host.name),
    timingsMs: timings,
  };
};
