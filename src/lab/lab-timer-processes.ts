// casfleet's on-host timers (src/host-timer) are detached on purpose: once armed they belong to no
// SSH session and to no lab process, so the PIDs `lab up` recorded do not lead to them. They are
// found the way `ip netns pids` finds a namespace's processes (the inode of /proc/<pid>/ns/net
// against the namespace's file under /run/netns), and only those whose command line names the
// timer are taken.

import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { TIMER_PROCESS_TAG } from '../host-timer/timer-commands.ts';
import { readCmdline } from './lab-processes.ts';

const NETNS_DIR = '/run/netns';

const netnsInode = (name: string): number | undefined => {
  try {
    return statSync(`${NETNS_DIR}/${name}`).ino;
  } catch {
    return undefined;
  }
};

/** PIDs of timer processes living in any of the named network namespaces. */
export const timerProcessesIn = (netns: readonly string[]): number[] => {
  const inodes = new Set(netns.map(netnsInode).filter((ino): ino is number => ino !== undefined));
  if (inodes.size === 0) return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (!readCmdline(pid)?.split(' ').includes(TIMER_PROCESS_TAG)) continue;
    try {
      const link = readlinkSync(`/proc/${pid}/ns/net`);
      const ino = Number(/^net:\[(\d+)\]$/.exec(link)?.[1]);
      if (inodes.has(ino)) found.push(pid);
    } catch {
      // exited meanwhile
    }
  }
  return found;
};
