// Checks before `lab up` touches anything: root, and every program/file the lab relies on, each
// with the package that provides it, so a missing piece fails in one clear line.

import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve, sep } from 'node:path';
import { LabError } from '../errors.ts';

/** Absolute path of `name` on $PATH (plus the sbin dirs, which non-login root shells may lack). */
export const findExecutable = (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  if (name.includes('/')) return isExecutable(name) ? name : undefined;
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
};

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const REQUIRED_PROGRAMS: readonly (readonly [program: string, pkg: string])[] = [
  ['/usr/sbin/sshd', 'openssh-server'],
  ['ssh-keygen', 'openssh-client'],
  ['ip', 'iproute2'],
  ['unshare', 'util-linux'],
  ['nsenter', 'util-linux'],
  ['mount', 'mount'],
  ['ufw', 'ufw'],
  ['iptables', 'iptables'],
  ['python3', 'python3'],
];

/** Files the fresh per-host /etc/ufw is built from (the package's pristine templates). */
export const UFW_TEMPLATE_FILES = [
  '/usr/share/ufw/ufw.conf',
  '/usr/share/ufw/before.init',
  '/usr/share/ufw/after.init',
  '/usr/share/ufw/iptables/before.rules',
  '/usr/share/ufw/iptables/after.rules',
  '/usr/share/ufw/iptables/user.rules',
  '/usr/share/ufw/iptables/before6.rules',
  '/usr/share/ufw/iptables/after6.rules',
  '/usr/share/ufw/iptables/user6.rules',
  '/etc/ufw/sysctl.conf',
  '/etc/default/ufw',
] as const;

/** `dir` must not be inside /etc: each host's /etc is an overlay whose layers may not overlap. */
export const checkLabDir = (dir: string): void => {
  const abs = resolve(dir);
  if (abs === '/etc' || abs.startsWith(`/etc${sep}`)) {
    throw new LabError(`lab dir ${abs} is inside /etc, which every lab host overlays; choose another directory`);
  }
};

export const checkLabPrerequisites = (): void => {
  if (process.platform !== 'linux') throw new LabError('lab up needs Linux (network and mount namespaces)');
  if (process.getuid?.() !== 0) throw new LabError('lab up needs root (it creates network namespaces and mounts); run it with sudo');
  for (const [program, pkg] of REQUIRED_PROGRAMS) {
    if (!findExecutable(program)) throw new LabError(`${program} not found: apt-get install ${pkg}`);
  }
  for (const file of UFW_TEMPLATE_FILES) {
    if (!existsSync(file)) throw new LabError(`${file} not found: apt-get install --reinstall ufw`);
  }
  if (!existsSync('/var/backups')) {
    throw new LabError('/var/backups not found (mkdir -m 755 /var/backups): each lab host binds its own copy over it');
  }
  if (!/\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'))) {
    throw new LabError('the kernel has no overlay filesystem (modprobe overlay): lab hosts get a private /etc through it');
  }
  if (!existsSync('/dev/net/tun')) {
    throw new LabError('/dev/net/tun not found: the lab needs the tun driver for the VPN-side addresses (modprobe tun)');
  }
};
