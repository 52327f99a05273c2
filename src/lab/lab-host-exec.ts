// Running a command "on" a lab host without SSH: enter the network and mount namespaces of that
// host's sshd (so /etc/ufw, /batm, /run are the host's own). For tests and diagnostics; casfleet
// itself always goes through SSH.

import { LabError } from '../errors.ts';
import { type RunOptions, type RunResult, run } from './lab-exec.ts';
import { assertLabName, DEFAULT_LAB_NAME, defaultLabDir, labPaths } from './lab-layout.ts';
import { isLabProcess } from './lab-processes.ts';
import { isHostSshdCmdline } from './lab-sshd.ts';
import { readLabState } from './lab-state.ts';

export interface RunInHostOptions extends RunOptions {
  readonly name?: string;
  readonly dir?: string;
  /** Inventory name (`cas-001`) or 1-based index. */
  readonly host: string | number;
}

export const runInHost = async (options: RunInHostOptions, argv: readonly string[]): Promise<RunResult> => {
  const name = assertLabName(options.name ?? DEFAULT_LAB_NAME);
  const paths = labPaths(name, options.dir ?? defaultLabDir(name));
  const state = readLabState(paths.state);
  if (!state) throw new LabError(`lab "${name}" is not up (no ${paths.state})`);
  const host = state.hosts.find((h) => (typeof options.host === 'number' ? h.index === options.host : h.name === options.host));
  if (!host) throw new LabError(`lab "${name}" has no host ${options.host}`);
  if (host.sshdPid === null || !isLabProcess(host.sshdPid, isHostSshdCmdline(state.mountRoot, host.id))) {
    throw new LabError(`${host.name}'s sshd is not running`, { host: host.name });
  }
  return run(['nsenter', '-t', String(host.sshdPid), '-m', '-n', '--', ...argv], options);
};
