// Lab inventories name the controller network namespace the lab hosts live behind
// (`casfleet_netns`). Node cannot enter a namespace itself, so the CLI re-executes itself inside
// it with `ip netns exec`; the marker variable stops the child from doing it again.

import { spawn } from 'node:child_process';
import { UsageError } from '../errors.ts';
import type { Inventory } from '../inventory/types.ts';

const INSIDE_MARKER = 'CASFLEET_INSIDE_NETNS';

/** The single controller namespace the selected hosts require, if any. */
export const requiredNetns = (inventory: Inventory, hosts: readonly string[]): string | undefined => {
  const names = new Set(hosts.map((name) => inventory.hosts.get(name)?.vars.casfleet_netns).filter((v) => v !== undefined));
  if (names.size > 1) throw new UsageError(`the selected hosts sit behind different lab namespaces: ${[...names].join(', ')}`);
  const [name] = names;
  if (name !== undefined && (typeof name !== 'string' || !/^[\w.-]+$/.test(name))) {
    throw new UsageError(`casfleet_netns must be a network namespace name, got ${JSON.stringify(name)}`);
  }
  return name;
};

export const isInsideNetns = (name: string): boolean => process.env[INSIDE_MARKER] === name;

/** Run this same CLI invocation (the full original argv) inside the namespace; resolves with its exit code. */
export const reexecInNetns = (name: string): Promise<number> => {
  if (process.getuid?.() !== 0) {
    return Promise.reject(new UsageError(`the lab hosts are reachable only from network namespace ${name}: run as root`));
  }
  const child = spawn('ip', ['netns', 'exec', name, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [INSIDE_MARKER]: name },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.on('error', (error) => reject(new UsageError(`cannot enter network namespace ${name}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + 2 : 1));
    });
  });
};
