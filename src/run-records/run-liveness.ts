// Whether the process that is writing a `running` record is still alive. A record left `running` by
// a process that is gone (kill -9, a crash, a reboot) is resumable; one whose process still runs is
// not, or two controllers would work the same hosts.

import { hostname } from 'node:os';
import type { ControllerProcess, RunRecord } from './run-record.ts';

export const currentController = (): ControllerProcess => ({ hostname: hostname(), pid: process.pid });

/** True when the pid exists (EPERM: it exists but belongs to someone else). */
const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Whether the record's run is still going. A record written on another machine (a shared state
 * folder) cannot be checked from here and counts as alive: refusing is the safe side. A pid reused
 * by an unrelated process also counts as alive; the operator can see the pid in the message.
 */
export const isRunLive = (record: RunRecord, self: ControllerProcess = currentController()): boolean => {
  if (record.status !== 'running') return false;
  if (record.controller.hostname !== self.hostname) return true;
  return record.controller.pid === self.pid || pidAlive(record.controller.pid);
};
