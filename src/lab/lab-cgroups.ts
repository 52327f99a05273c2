// CPU accounting per lab host: each host's sshd is moved into a cgroup of its own when it starts, so
// everything the host runs (sshd, sessions, ufw, iptables, python) is charged to it. The cgroups'
// names derive from the lab's name alone, so `lab down` removes them even after a crash.
// cgroup v1's cpuacct hierarchy where mounted, else cgroup v2 (cpu.stat is there without controllers).

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './lab-exec.ts';

interface CgroupHierarchy {
  readonly root: string;
  /** CPU time of a cgroup and its descendants, in seconds. */
  readonly usageSeconds: (dir: string) => number;
}

const V1_CPUACCT = '/sys/fs/cgroup/cpuacct';
const V2_ROOTS = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

const v1: CgroupHierarchy = {
  root: V1_CPUACCT,
  usageSeconds: (dir) => Number(readFileSync(join(dir, 'cpuacct.usage'), 'utf8').trim()) / 1e9,
};

const v2 = (root: string): CgroupHierarchy => ({
  root,
  usageSeconds: (dir) => {
    const line = readFileSync(join(dir, 'cpu.stat'), 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('usage_usec '));
    return Number(line?.split(' ')[1]) / 1e6;
  },
});

/** The hierarchy this machine accounts CPU in, or undefined when neither is usable (the lab then runs unaccounted). */
export const cpuHierarchy = (): CgroupHierarchy | undefined => {
  if (existsSync(join(V1_CPUACCT, 'cpuacct.usage'))) return v1;
  const root = V2_ROOTS.find((candidate) => existsSync(join(candidate, 'cpu.stat')) && existsSync(join(candidate, 'cgroup.procs')));
  return root === undefined ? undefined : v2(root);
};

/** Lab names are [a-z0-9] only, so this never collides with another lab's cgroup. */
export const labCgroupDir = (hierarchy: CgroupHierarchy, labName: string): string => join(hierarchy.root, `casfleet-lab-${labName}`);

/** Move `pid` (a host's sshd, before it forks any session) into that host's own cgroup. Returns false when unaccounted. */
export const accountHost = (labName: string, hostId: string, pid: number): boolean => {
  const hierarchy = cpuHierarchy();
  if (hierarchy === undefined) return false;
  const dir = join(labCgroupDir(hierarchy, labName), hostId);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
    return true;
  } catch {
    return false;
  }
};

/** CPU seconds per host of lab `labName` so far (hosts without a cgroup are absent). */
export const labHostsCpuSeconds = (labName: string): Map<string, number> => {
  const usage = new Map<string, number>();
  const hierarchy = cpuHierarchy();
  if (hierarchy === undefined) return usage;
  const labDir = labCgroupDir(hierarchy, labName);
  for (const id of listDirs(labDir)) usage.set(id, hierarchy.usageSeconds(join(labDir, id)));
  return usage;
};

/**
 * Every process still charged to one of the lab's hosts: whatever a host session left running (a
 * detached timer, its children) even after its namespaces are gone. Only the lab's sshds and what
 * they started ever enter these cgroups.
 */
export const labCgroupProcesses = (labName: string): number[] => {
  const hierarchy = cpuHierarchy();
  if (hierarchy === undefined) return [];
  const labDir = labCgroupDir(hierarchy, labName);
  return listDirs(labDir).flatMap((id) => {
    try {
      return readFileSync(join(labDir, id, 'cgroup.procs'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
};

/**
 * Remove the lab's cgroups once their processes are gone. A cgroup whose last task just exited may
 * still read busy for a moment, hence the short retry; one that stays busy is left (the next
 * `lab up` of the same name reuses it).
 */
export const removeLabCgroups = async (labName: string): Promise<string[]> => {
  const hierarchy = cpuHierarchy();
  if (hierarchy === undefined) return [];
  const labDir = labCgroupDir(hierarchy, labName);
  if (!existsSync(labDir)) return [];
  const left = [...listDirs(labDir).map((id) => join(labDir, id)), labDir];
  const deadline = Date.now() + 2000;
  for (;;) {
    for (const dir of [...left]) {
      try {
        rmdirSync(dir);
        left.splice(left.indexOf(dir), 1);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') left.splice(left.indexOf(dir), 1);
      }
    }
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(50);
  }
};

const listDirs = (dir: string): string[] => {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
};
