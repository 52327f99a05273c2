// The lab's hosts share this machine's CPUs with the controller; on a real fleet every server has its
// own. So that the simulated hosts do not starve the controller (which would read as event-loop
// stalls and slow every phase's client side alike), the bench moves their processes into a cgroup of
// the `cpu` hierarchy with a lower weight (cpu.shares; the default is 1024). Everything the hosts
// start later inherits it. The hosts' CPU is still accounted per host in their cpuacct cgroups.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labCgroupProcesses } from '../src/lab/lab-cgroups.ts';

const CPU_HIERARCHY = '/sys/fs/cgroup/cpu';

const weightDir = (labName: string): string => join(CPU_HIERARCHY, `casfleet-bench-${labName}`);

/** Gives the lab's hosts `shares` (of 1024); returns false where cgroup v1's cpu hierarchy is missing. */
export const weighLabHosts = (labName: string, shares: number): boolean => {
  if (!existsSync(join(CPU_HIERARCHY, 'cpu.shares'))) return false;
  const dir = weightDir(labName);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cpu.shares'), `${shares}\n`);
  for (const pid of labCgroupProcesses(labName)) {
    try {
      writeFileSync(join(dir, 'cgroup.procs'), `${pid}\n`);
    } catch {
      // A process that exited meanwhile.
    }
  }
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
};

/** After `lab down`: the cgroup is empty then; a busy one is left for the next bench of that lab. */
export const removeHostWeight = (labName: string): void => {
  try {
    rmdirSync(weightDir(labName));
  } catch {
    // Gone already, or a process is still leaving.
  }
};
