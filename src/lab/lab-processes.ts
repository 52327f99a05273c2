// Starting and stopping the lab's long-lived processes (sshd per host, one listener) strictly by
// PID: a recorded PID is only signalled while /proc/<pid>/cmdline still names this lab's files, so a
// PID reused by an unrelated process after a reboot or crash is never touched.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { LabError } from '../errors.ts';
import { sleep } from './lab-exec.ts';

/**
 * Start a process that outlives us (own session: a Ctrl-C in the terminal that ran `lab up` must
 * not reach the lab), with stdout+stderr appended to `logPath`.
 */
export const spawnDetached = (argv: readonly string[], logPath: string): ChildProcess => {
  const [command, ...args] = argv;
  if (command === undefined) throw new LabError('spawnDetached: empty command');
  const log = openSync(logPath, 'a', 0o600);
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    // Without this, an ENOENT would be an unhandled 'error' event; the caller sees pid === undefined.
    child.on('error', () => {});
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
};

export const readCmdline = (pid: number): string | undefined => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return undefined;
  }
};

/** Running (a zombie waiting for its parent to reap it counts as gone). */
export const isProcessAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) S ..." — comm may contain spaces or parens, so read the state after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

/** Alive and its command line still names this lab's files (`matches` knows which). */
export const isLabProcess = (pid: number, matches: (cmdline: string) => boolean): boolean => {
  if (!isProcessAlive(pid)) return false;
  const cmdline = readCmdline(pid);
  return cmdline !== undefined && matches(cmdline);
};

/** Every live descendant of `roots` (children first reach us via PPid in /proc/<pid>/stat). */
export const descendantsOf = (roots: readonly number[]): number[] => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process exited while we were listing
    }
  }
  const found: number[] = [];
  const queue = [...roots];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
};

const signal = (pid: number, name: NodeJS.Signals): void => {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
};

/** SIGTERM, wait up to `graceMs` for them to go, then SIGKILL what is left. Returns the PIDs signalled. */
export const terminate = async (pids: readonly number[], graceMs = 2000): Promise<number[]> => {
  const live = pids.filter(isProcessAlive);
  for (const pid of live) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(isProcessAlive)) await sleep(20);
  for (const pid of live.filter(isProcessAlive)) signal(pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (Date.now() < killDeadline && live.some(isProcessAlive)) await sleep(20);
  return live;
};
