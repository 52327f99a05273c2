// `casfleet lab down`: remove everything `lab up` made, even from a crashed or half-built run.
// Processes: only PIDs recorded in lab.json whose command line still names this lab, plus their
// descendants (the per-connection sshd processes and the sessions they run), and casfleet's on-host
// timers left running in the lab's namespaces (detached, so no recorded PID leads to them). Namespaces: every
// `cfl-<name>-*`, whether recorded or not. Files: only the entries `lab up` writes. Idempotent.

import { readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.ts';
import { removeBatmMountpointIfUnused } from './lab-batm-mountpoint.ts';
import { labCgroupProcesses, removeLabCgroups } from './lab-cgroups.ts';
import { assertLabName, DEFAULT_LAB_NAME, defaultLabDir, LAB_DIR_ENTRIES, type LabPaths, labPaths } from './lab-layout.ts';
import { deleteLabNetns, labNetnsIn, listNetns } from './lab-network.ts';
import { descendantsOf, isLabProcess, terminate } from './lab-processes.ts';
import { isHostSshdCmdline, readSshdPidFile } from './lab-sshd.ts';
import { type LabState, readLabState } from './lab-state.ts';
import { timerProcessesIn } from './lab-timer-processes.ts';

export interface LabDownOptions {
  readonly name?: string;
  readonly dir?: string;
}

export interface LabDownReport {
  readonly name: string;
  readonly dir: string;
  /** PIDs signalled (recorded ones, leftover on-host timers, their descendants, and what was left in the hosts' CPU cgroups). */
  readonly killed: readonly number[];
  /** Recorded PIDs left alone: already gone, or now belonging to some other program. */
  readonly skippedPids: readonly number[];
  readonly deletedNetns: readonly string[];
  readonly removedBatmDir: boolean;
  /** The lab's CPU cgroups that stayed busy and were left in place (normally none). */
  readonly cgroupsLeft: readonly string[];
  /** lab.json existed but was unreadable: sshds were still found through their sshd.pid files, namespaces by name. */
  readonly stateProblem?: string;
}

export const labDown = async (options: LabDownOptions = {}): Promise<LabDownReport> => {
  if (process.getuid?.() !== 0) throw new LabError('lab down needs root (it deletes network namespaces); run it with sudo');
  const name = assertLabName(options.name ?? DEFAULT_LAB_NAME);
  const paths = labPaths(name, options.dir ?? defaultLabDir(name));

  let state: LabState | undefined;
  let stateProblem: string | undefined;
  try {
    state = readLabState(paths.state);
  } catch (error) {
    stateProblem = (error as Error).message;
  }

  const { verified, skipped } = recordedLabProcesses(state, paths);
  // Timers first: one that fires now would restore files on a host being taken apart.
  const timers = timerProcessesIn(labNetnsIn(await listNetns(), name));
  // Collect descendants before signalling anything: once a parent dies its children are reparented.
  const killed = await terminate([...descendantsOf([...timers, ...verified]), ...timers, ...verified]);

  const deletedNetns = await deleteLabNetns(name);
  // Derived from the name, not from lab.json: found after a crash too. What a session left running
  // outside the recorded process tree (reparented to init) is still charged to its host's cgroup.
  const stragglers = await terminate(labCgroupProcesses(name));
  const cgroupsLeft = await removeLabCgroups(name);
  removeLabFiles(paths.dir);
  const removedBatmDir = removeBatmMountpointIfUnused(await listNetns());

  return {
    name,
    dir: paths.dir,
    killed: [...killed, ...stragglers],
    skippedPids: skipped,
    deletedNetns,
    removedBatmDir,
    cgroupsLeft,
    ...(stateProblem === undefined ? {} : { stateProblem }),
  };
};

/**
 * PIDs from lab.json plus each host's sshd.pid (written before lab.json learns them; also found
 * when lab.json is missing or corrupt), each verified against its command line.
 */
const recordedLabProcesses = (state: LabState | undefined, paths: LabPaths): { verified: number[]; skipped: number[] } => {
  const verified = new Set<number>();
  const skipped = new Set<number>();
  const check = (pid: number | null | undefined, matches: (cmdline: string) => boolean): void => {
    if (pid === null || pid === undefined || verified.has(pid)) return;
    if (isLabProcess(pid, matches)) verified.add(pid);
    else skipped.add(pid);
  };
  check(state?.listenerPid, (cmdline) => cmdline.endsWith(paths.listenerSpec));
  const mountRoot = state?.mountRoot ?? paths.mountRoot;
  const fromState = new Map((state?.hosts ?? []).map((host) => [host.id, host.sshdPid]));
  const ids = new Set([...fromState.keys(), ...listHostDirs(paths.hostsDir)]);
  for (const id of ids) {
    const matches = isHostSshdCmdline(mountRoot, id);
    check(fromState.get(id), matches);
    check(readSshdPidFile(paths.dir, id), matches);
  }
  return { verified: [...verified], skipped: [...skipped].filter((pid) => !verified.has(pid)) };
};

const listHostDirs = (hostsDir: string): string[] => {
  try {
    return readdirSync(hostsDir).filter((entry) => /^h\d+$/.test(entry));
  } catch {
    return [];
  }
};

/** Delete what `lab up` writes, then the directory if that left it empty; never anything else. */
const removeLabFiles = (dir: string): void => {
  for (const entry of LAB_DIR_ENTRIES) rmSync(join(dir, entry), { recursive: true, force: true });
  rmSync(join(dir, 'lab.json.tmp'), { force: true });
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // no directory: nothing to remove
  }
};
