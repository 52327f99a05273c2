// `casfleet lab status`: is the lab (still) what lab.json says? Per host: namespace present, sshd
// alive (and still ours), port 22 answering from the controller.

import { assertLabName, controllerNetns, DEFAULT_LAB_NAME, defaultLabDir, labPaths } from './lab-layout.ts';
import { listNetns } from './lab-network.ts';
import { isLabProcess } from './lab-processes.ts';
import { isHostSshdCmdline } from './lab-sshd.ts';
import { readLabState } from './lab-state.ts';
import { probeFromController } from './probe-from-controller.ts';

export interface LabStatusOptions {
  readonly name?: string;
  readonly dir?: string;
  /** Port-22 probe timeout per host. */
  readonly timeoutMs?: number;
}

export interface LabHostStatus {
  readonly name: string;
  readonly address: string;
  readonly netns: string;
  readonly netnsPresent: boolean;
  readonly sshdPid: number | null;
  readonly sshdAlive: boolean;
  readonly sshAnswering: boolean;
}

export interface LabStatus {
  readonly name: string;
  readonly dir: string;
  /** false: no lab.json (never built, or torn down). */
  readonly exists: boolean;
  readonly phase?: 'building' | 'ready';
  readonly controllerNetns: string;
  readonly controllerPresent: boolean;
  readonly listenerPid: number | null;
  readonly listenerAlive: boolean;
  readonly hosts: readonly LabHostStatus[];
  /** Every host present, alive and answering. */
  readonly healthy: boolean;
}

export const labStatus = async (options: LabStatusOptions = {}): Promise<LabStatus> => {
  const name = assertLabName(options.name ?? DEFAULT_LAB_NAME);
  const paths = labPaths(name, options.dir ?? defaultLabDir(name));
  const ctl = controllerNetns(name);
  const state = readLabState(paths.state);
  const netns = new Set(await listNetns());
  const controllerPresent = netns.has(ctl);
  if (!state) {
    return {
      name,
      dir: paths.dir,
      exists: false,
      controllerNetns: ctl,
      controllerPresent,
      listenerPid: null,
      listenerAlive: false,
      hosts: [],
      healthy: false,
    };
  }

  const answering = new Set<string>();
  const reachable = state.hosts.filter((host) => netns.has(host.netns)).map((host) => host.address);
  if (controllerPresent && reachable.length > 0) {
    const results = await probeFromController({ name, address: reachable, ports: [22], timeoutMs: options.timeoutMs ?? 1000 });
    for (const result of results) if (result.state === 'open') answering.add(result.address);
  }

  const hosts = state.hosts.map((host) => ({
    name: host.name,
    address: host.address,
    netns: host.netns,
    netnsPresent: netns.has(host.netns),
    sshdPid: host.sshdPid,
    sshdAlive: host.sshdPid !== null && isLabProcess(host.sshdPid, isHostSshdCmdline(state.mountRoot, host.id)),
    sshAnswering: answering.has(host.address),
  }));
  const listenerAlive = state.listenerPid !== null && isLabProcess(state.listenerPid, (cmdline) => cmdline.endsWith(paths.listenerSpec));
  return {
    name,
    dir: paths.dir,
    exists: true,
    phase: state.phase,
    controllerNetns: ctl,
    controllerPresent,
    listenerPid: state.listenerPid,
    listenerAlive,
    hosts,
    healthy: controllerPresent && listenerAlive && hosts.every((h) => h.netnsPresent && h.sshdAlive && h.sshAnswering),
  };
};
