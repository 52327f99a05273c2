// CPU time (user + system, seconds) of this process's waited-for children, from /proc/self/stat:
// how the bench charges spawned ssh clients and casfleet runs to the controller.
import { readFileSync } from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

export const childrenCpuSeconds = (): number => {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return (cutime + cstime) / CLOCK_TICKS;
};
