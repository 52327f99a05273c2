// Starts lab-listener.py: the single process that keeps every host's CAS ports listening.

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.ts';
import { sleep } from './lab-exec.ts';
import { hostRelativePaths, type LabHostLayout, type LabPaths } from './lab-layout.ts';
import { LAB_LISTENER_PORTS } from './lab-ports.ts';
import { isProcessAlive, spawnDetached } from './lab-processes.ts';

/** listener.json, read by lab-listener.py. */
export interface ListenerSpec {
  readonly hosts: readonly {
    readonly id: string;
    /** The host's namespace file, which the listener setns()es into. */
    readonly netns: string;
    /** The host's /batm/run-state, by its real path (the listener lives in the root mount namespace). */
    readonly runState: string;
    readonly sockets: readonly { readonly address: string; readonly port: number; readonly service: string | null }[];
  }[];
}

export const buildListenerSpec = (dir: string, hosts: readonly LabHostLayout[]): ListenerSpec => ({
  hosts: hosts.map((host) => ({
    id: host.id,
    netns: `/run/netns/${host.netns}`,
    runState: join(dir, hostRelativePaths(host.id).batm, 'run-state'),
    sockets: LAB_LISTENER_PORTS.map(({ bind, port, service }) => ({
      address: bind === 'public' ? host.address : bind,
      port,
      service,
    })),
  })),
});

/**
 * Start the listener and wait until it reports every socket open; returns its PID. `onSpawned` gets
 * the PID before the wait, so it is recorded even if start-up then fails.
 */
export const startListener = async (
  paths: LabPaths,
  hosts: readonly LabHostLayout[],
  onSpawned: (pid: number) => void,
  timeoutMs = 30_000,
): Promise<number> => {
  // A copy in the lab dir: the running process must not depend on the source tree, and its command
  // line then names only this lab's files (which is what `lab down` checks before killing it).
  copyFileSync(fileURLToPath(new URL('./lab-listener.py', import.meta.url)), paths.listenerScript);
  writeFileSync(paths.listenerSpec, `${JSON.stringify(buildListenerSpec(paths.dir, hosts))}\n`);
  writeFileSync(paths.listenerLog, '');
  const child = spawnDetached(['python3', paths.listenerScript, paths.listenerSpec], paths.listenerLog);
  const pid = child.pid;
  if (pid === undefined) throw new LabError('cannot start the lab listener (python3)');
  onSpawned(pid);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readFileSync(paths.listenerLog, 'utf8');
    if (/^ready /m.test(log)) return pid;
    if (exited || !isProcessAlive(pid)) {
      throw new LabError(`the lab listener exited during start-up:\n${log.trim().split('\n').slice(-10).join('\n')}`);
    }
    if (Date.now() > deadline)
      throw new LabError(`the lab listener did not become ready within ${timeoutMs / 1000} s (see ${paths.listenerLog})`);
    await sleep(25);
  }
};
