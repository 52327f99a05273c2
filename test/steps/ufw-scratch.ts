// A throwaway network namespace + private mount namespace in which real ufw/iptables run against a
// private copy of /etc/ufw, /etc/default/ufw, /var/backups and /run: the machine's own firewall,
// config and backups are never touched, and nothing leaves the namespace (it has only `lo`). Root only.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChangeStdin, stdinText } from '../../src/command/stdin-parts.ts';
import { FactError } from '../../src/errors.ts';
import type { Fact } from '../../src/facts/fact.ts';

export interface ScratchResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

export interface UfwScratch {
  readonly name: string;
  /** Host directory holding the private copies; `<dir>/backups` is the namespace's /var/backups. */
  readonly dir: string;
  /** Runs `script` as an exec of its own would: StdinParts on stdin, one after the other. */
  run(script: string, stdin?: ChangeStdin): ScratchResult;
  gather<T>(fact: Fact<T>): T;
  destroy(): void;
}

/** Why a real-ufw test cannot run here, or undefined when it can. */
export const scratchUnavailable = (): string | undefined => {
  if (process.getuid?.() !== 0) return 'needs root (network and mount namespaces)';
  if (!existsSync('/var/backups')) return 'needs /var/backups to bind a private copy over it';
  for (const tool of ['ip', 'unshare', 'ufw', 'iptables']) {
    if (spawnSync('sh', ['-c', `command -v ${tool} || [ -x /usr/sbin/${tool} ]`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
};

const must = (command: string, args: string[]): void => {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new FactError(`${command} ${args.join(' ')} failed: ${result.stderr}`);
};

/** Creates the namespace with pristine ufw files (from /usr/share/ufw) and IPv6 on, policy ACCEPT, disabled. */
export const createUfwScratch = (): UfwScratch => {
  const name = `casfleet-ufwtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const dir = mkdtempSync(join(tmpdir(), 'casfleet-ufw-'));
  cpSync('/etc/ufw', join(dir, 'ufw'), { recursive: true, dereference: true });
  for (const file of ['ufw.conf', 'user.rules', 'user6.rules']) copyFileSync(join('/usr/share/ufw', file), join(dir, 'ufw', file));
  const defaults = readFileSync('/etc/default/ufw', 'utf8')
    .replace(/^IPV6=.*$/m, 'IPV6=yes')
    .replace(/^DEFAULT_INPUT_POLICY=.*$/m, 'DEFAULT_INPUT_POLICY="ACCEPT"');
  writeFileSync(join(dir, 'default-ufw'), defaults);
  mkdirSync(join(dir, 'backups'));
  try {
    must('ip', ['netns', 'add', name]);
    must('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
    // An eth0 (a veth pair kept inside the namespace) so 'default-route' rules resolve as on a server.
    must('ip', ['-n', name, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0peer']);
    must('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
  } catch (error) {
    spawnSync('ip', ['netns', 'del', name]);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  // (ip netns exec already remounts /sys, so /sys/class/net shows the namespace's interfaces.)
  const prelude = [
    `mount --bind ${dir}/ufw /etc/ufw`,
    `mount --bind ${dir}/default-ufw /etc/default/ufw`,
    `mount --bind ${dir}/backups /var/backups`,
    'mount -t tmpfs tmpfs /run',
    'exec sh -c "$1"',
  ].join(' && ');
  const run = (script: string, stdin: ChangeStdin = ''): ScratchResult => {
    const result = spawnSync(
      'ip',
      ['netns', 'exec', name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', prelude, 'sh', script],
      {
        input: stdinText(stdin),
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    return { stdout: result.stdout, stderr: result.stderr, code: result.status };
  };
  return {
    name,
    dir,
    run,
    gather: (fact) => {
      const result = run(fact.script);
      if (result.code !== 0) throw new FactError(`${fact.id}: exit ${result.code}: ${result.stderr}`);
      return fact.parse(result.stdout);
    },
    destroy: () => {
      spawnSync('ip', ['netns', 'del', name]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
