// Starts each host's sshd inside its network namespace and a fresh private mount namespace
// (host-start.sh builds the mounts, then execs sshd), and waits until every sshd listens.

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.ts';
import { accountHost } from './lab-cgroups.ts';
import { sleep } from './lab-exec.ts';
import { hostRelativePaths, type LabHostLayout, type LabPaths } from './lab-layout.ts';
import { isProcessAlive, spawnDetached } from './lab-processes.ts';

/**
 * Does this command line belong to host `id` of the lab mounted at `mountRoot`? Before the exec it is
 * `… host-start.sh <dir> <mountRoot> <id>`, after it sshd's title naming `<mountRoot>/hosts/<id>/sshd_config`.
 */
export const isHostSshdCmdline =
  (mountRoot: string, id: string) =>
  (cmdline: string): boolean =>
    cmdline.includes(`${mountRoot}/${hostRelativePaths(id).sshdConfig} `) || cmdline.endsWith(`${mountRoot} ${id}`);

/** The PID from hosts/<id>/sshd.pid, if any. */
export const readSshdPidFile = (dir: string, id: string): number | undefined => {
  try {
    const pid = Number(readFileSync(join(dir, hostRelativePaths(id).sshdPid), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
};

export const installHostStartScript = (paths: LabPaths): void => {
  copyFileSync(fileURLToPath(new URL('./host-start.sh', import.meta.url)), paths.hostStartScript);
};

/** argv that turns a new process into host `id`'s sshd (ip netns exec → unshare → sh → exec sshd: one PID). */
export const hostStartArgv = (paths: LabPaths, host: LabHostLayout): string[] => [
  'ip',
  'netns',
  'exec',
  host.netns,
  'unshare',
  '--mount',
  '--propagation',
  'slave',
  'sh',
  paths.hostStartScript,
  paths.dir,
  paths.mountRoot,
  host.id,
];

export interface StartedSshd {
  readonly host: LabHostLayout;
  readonly pid: number;
  /** Set when the process exited (it should never exit while the lab is up). */
  readonly exited: () => boolean;
}

/**
 * Spawn every host's sshd (no waiting). Each PID goes to hosts/<id>/sshd.pid at once (and the
 * process writes it too, first thing), so a `lab up` killed half-way through this loop leaves no
 * process that `lab down` cannot find; lab.json gets all PIDs after the loop. The PID joins the
 * host's own CPU cgroup at once (it stays the same PID through the exec into sshd), so every session
 * the host ever runs is charged to it.
 */
export const spawnSshds = (labName: string, paths: LabPaths, hosts: readonly LabHostLayout[]): StartedSshd[] =>
  hosts.map((host) => {
    const rel = hostRelativePaths(host.id);
    writeFileSync(join(paths.dir, rel.sshdLog), '');
    const child = spawnDetached(hostStartArgv(paths, host), join(paths.dir, rel.setupLog));
    if (child.pid === undefined) throw new LabError(`cannot start ${host.name}'s sshd`);
    writeFileSync(join(paths.dir, rel.sshdPid), `${child.pid}\n`);
    accountHost(labName, host.id, child.pid);
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    return { host, pid: child.pid, exited: () => exited };
  });

const tail = (path: string, lines = 10): string => {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
};

/** Wait until every sshd logged "Server listening"; a host whose process died fails with its logs. */
export const waitForSshds = async (paths: LabPaths, started: readonly StartedSshd[], timeoutMs = 60_000): Promise<void> => {
  const pending = new Set(started);
  const deadline = Date.now() + timeoutMs;
  while (pending.size > 0) {
    for (const entry of pending) {
      const rel = hostRelativePaths(entry.host.id);
      const log = readFileSync(join(paths.dir, rel.sshdLog), 'utf8');
      if (log.includes('Server listening on')) {
        pending.delete(entry);
      } else if (entry.exited() || !isProcessAlive(entry.pid)) {
        const setup = tail(join(paths.dir, rel.setupLog));
        throw new LabError(
          `${entry.host.name}'s sshd did not start:\n${[setup, tail(join(paths.dir, rel.sshdLog))].filter(Boolean).join('\n')}`,
          {
            host: entry.host.name,
          },
        );
      }
    }
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      const names = [...pending].slice(0, 5).map((entry) => entry.host.name);
      throw new LabError(`${pending.size} sshd(s) not listening after ${timeoutMs / 1000} s (e.g. ${names.join(', ')})`);
    }
    await sleep(25);
  }
};
