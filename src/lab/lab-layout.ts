// Pure naming and addressing for a lab: namespace names, host names, addresses, file paths.
// Everything else in src/lab/ derives names from here, so `lab down` can find what `lab up` made.

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { LabError } from '../errors.ts';

export const DEFAULT_LAB_NAME = 'default';

/**
 * Lab names are short and use only [a-z0-9]: a hyphen would let `cfl-a-` (lab "a") match the
 * namespaces of lab "a-b", and `lab down a` must never touch another lab.
 */
export const LAB_NAME_PATTERN = /^[a-z0-9]{1,24}$/;

/**
 * The listener holds ~11 sockets per host in one process and the hard RLIMIT_NOFILE here is 20000;
 * 1500 hosts keeps it well inside that. The address plan itself would allow 63 500.
 */
export const MAX_LAB_HOSTS = 1500;

/** The controller's LAN address: the source of SSH connections and probes. */
export const CONTROLLER_ADDRESS = '10.99.0.1';
export const LAN_PREFIX_LENGTH = 16;
export const LAN_SUBNET = '10.99.0.0/16';

/** A second controller address that plays the hardware VPN router (Scenario B's allowed source). */
export const VPN_ROUTER_ADDRESS = '10.8.0.1';
export const VPN_ROUTER_SUBNET = '10.8.0.0/24';

/** CAS's VPN-side bind addresses ([C] research/cas-domain.md §1.3); identical on every host, as on real CAS. */
export const MASTER_BIND_IP = '10.3.2.1';
export const ADMIN_BIND_IP = '10.3.2.2';
/** The persistent TUN device carrying the VPN-side addresses (the kernel here has no `dummy` driver). */
export const VPN_SIDE_DEVICE = 'batm0';

/** Bridge inside the controller namespace; every host's veth peer is attached to it. */
export const BRIDGE_NAME = 'br0';

/** Where a host's private mount namespace sees the lab directory (the real path may be hidden under /root or /tmp). */
export const MOUNT_ROOT_BASE = '/run/casfleet-lab';

/** Marker left in a /batm mount point the lab created on the root fs, so the last `lab down` can remove it. */
export const BATM_MOUNTPOINT = '/batm';
export const BATM_MARKER = '.casfleet-lab-mountpoint';

export const assertLabName = (name: string): string => {
  if (!LAB_NAME_PATTERN.test(name)) {
    throw new LabError(`invalid lab name "${name}": use 1-24 lowercase letters or digits (no hyphens)`);
  }
  return name;
};

export const assertHostCount = (hosts: number): number => {
  if (!Number.isInteger(hosts) || hosts < 1 || hosts > MAX_LAB_HOSTS) {
    throw new LabError(`invalid host count ${hosts}: use an integer from 1 to ${MAX_LAB_HOSTS}`);
  }
  return hosts;
};

/** Every namespace of lab `name` starts with this; `lab down` deletes exactly these. */
export const netnsPrefix = (name: string): string => `cfl-${name}-`;
export const controllerNetns = (name: string): string => `${netnsPrefix(name)}ctl`;

/** At least 3 digits so names sort naturally in listings up to 999 hosts (cas-001 … cas-1000). */
const pad = (index: number): string => String(index).padStart(3, '0');

export const hostId = (index: number): string => `h${pad(index)}`;
export const hostNetns = (name: string, index: number): string => `${netnsPrefix(name)}${hostId(index)}`;
export const hostName = (index: number): string => `cas-${pad(index)}`;
/** Controller-side end of host `index`'s veth pair (≤ 15 chars, the kernel's IFNAMSIZ limit). */
export const vethName = (index: number): string => `vh${index}`;

/**
 * Host i (1-based) gets 10.99.<1 + (i-1) div 250>.<1 + (i-1) mod 250>: host 1 → 10.99.1.1,
 * 250 → 10.99.1.250, 251 → 10.99.2.1. Never .0 or .255, and 10.99.0.x stays the controller's.
 */
export const hostAddress = (index: number): string => {
  if (!Number.isInteger(index) || index < 1 || index > 254 * 250) {
    throw new LabError(`host index ${index} is outside the lab address plan`);
  }
  return `10.99.${1 + Math.floor((index - 1) / 250)}.${1 + ((index - 1) % 250)}`;
};

/**
 * The controller's source address for probing host `index`'s VPN-side addresses: 10.98.x.y for host
 * 10.99.x.y. Every lab host carries the same VPN-side addresses (as real CAS servers do), so the
 * controller routes them per host by source address: traffic from this address to them goes via
 * that host, as it would from a neighbour on the server's network segment.
 */
export const vpnProbeSource = (index: number): string => hostAddress(index).replace(/^10\.99\./, '10.98.');

/** The routing table holding host `index`'s VPN-side routes in the controller namespace. */
export const vpnProbeTable = (index: number): number => 1000 + index;

export interface LabHostLayout {
  readonly index: number;
  readonly id: string;
  readonly name: string;
  readonly netns: string;
  readonly address: string;
  readonly veth: string;
}

export const hostLayout = (name: string, index: number): LabHostLayout => ({
  index,
  id: hostId(index),
  name: hostName(index),
  netns: hostNetns(name, index),
  address: hostAddress(index),
  veth: vethName(index),
});

export const labHosts = (name: string, hosts: number): LabHostLayout[] => Array.from({ length: hosts }, (_, i) => hostLayout(name, i + 1));

/** `${CASFLEET_LAB_DIR:-$HOME/.local/state/casfleet/lab}` */
export const labRootDir = (env: NodeJS.ProcessEnv = process.env): string =>
  resolve(env.CASFLEET_LAB_DIR || join(env.HOME || homedir(), '.local', 'state', 'casfleet', 'lab'));

export const defaultLabDir = (name: string, env: NodeJS.ProcessEnv = process.env): string => join(labRootDir(env), name);

export interface LabPaths {
  readonly dir: string;
  /** The lab directory as seen from inside a host's mount namespace. */
  readonly mountRoot: string;
  readonly state: string;
  readonly inventory: string;
  readonly knownHosts: string;
  readonly knownHostsHashed: string;
  readonly privateKey: string;
  readonly publicKey: string;
  readonly authorizedKeys: string;
  readonly shadow: string;
  /** The ops account's sudo password (lab-ops-account.ts). */
  readonly becomePassword: string;
  /** OpenSSH client config with an alias per host (and the bastion): `ssh -F` or `--ssh-config`. */
  readonly sshConfig: string;
  readonly hostStartScript: string;
  readonly listenerScript: string;
  readonly listenerSpec: string;
  readonly listenerLog: string;
  readonly hostsDir: string;
}

/** Top-level entries `lab down` may delete; anything else in the directory is left alone. */
export const LAB_DIR_ENTRIES = [
  'lab.json',
  'inventory.yml',
  'known_hosts',
  'known_hosts.hashed',
  'id_ed25519',
  'id_ed25519.pub',
  'authorized_keys',
  'shadow',
  'become_password',
  'ssh_config',
  'host-start.sh',
  'lab-listener.py',
  'listener.json',
  'listener.log',
  'hosts',
] as const;

export const labPaths = (name: string, dir: string = defaultLabDir(name)): LabPaths => {
  const abs = resolve(dir);
  return {
    dir: abs,
    mountRoot: `${MOUNT_ROOT_BASE}/${assertLabName(name)}`,
    state: join(abs, 'lab.json'),
    inventory: join(abs, 'inventory.yml'),
    knownHosts: join(abs, 'known_hosts'),
    knownHostsHashed: join(abs, 'known_hosts.hashed'),
    privateKey: join(abs, 'id_ed25519'),
    publicKey: join(abs, 'id_ed25519.pub'),
    authorizedKeys: join(abs, 'authorized_keys'),
    shadow: join(abs, 'shadow'),
    becomePassword: join(abs, 'become_password'),
    sshConfig: join(abs, 'ssh_config'),
    hostStartScript: join(abs, 'host-start.sh'),
    listenerScript: join(abs, 'lab-listener.py'),
    listenerSpec: join(abs, 'listener.json'),
    listenerLog: join(abs, 'listener.log'),
    hostsDir: join(abs, 'hosts'),
  };
};

/** Per-host files, relative to the lab directory (so they work for both the real and the in-namespace root). */
export const hostRelativePaths = (id: string) => {
  const base = `hosts/${id}`;
  return {
    base,
    etcUfw: `${base}/etc-ufw`,
    /** Overlay upper/work dirs for the host's /etc: its writes land here, never in the real /etc. */
    etcUpper: `${base}/etc-upper`,
    etcWork: `${base}/etc-work`,
    /** Overlay upper/work dirs for the host's /var/lib (casfleet's on-host timers live in /var/lib/casfleet). */
    varLibUpper: `${base}/var-lib-upper`,
    varLibWork: `${base}/var-lib-work`,
    /** /etc/default/ufw as the host sees it (pre-seeded in the overlay's upper dir). */
    defaultUfw: `${base}/etc-upper/default/ufw`,
    batm: `${base}/batm`,
    root: `${base}/root`,
    tmp: `${base}/tmp`,
    varLog: `${base}/var-log`,
    varBackups: `${base}/var-backups`,
    /** The host's /etc/iptables (rules.v4, rules.v6 of the iptables backend), empty at first. */
    etcIptables: `${base}/etc-iptables`,
    hostKey: `${base}/ssh_host_ed25519_key`,
    hostPublicKey: `${base}/ssh_host_ed25519_key.pub`,
    sshdConfig: `${base}/sshd_config`,
    sshdLog: `${base}/sshd.log`,
    setupLog: `${base}/setup.log`,
    /** Written the instant the sshd process is spawned: lab.json is saved only after all are. */
    sshdPid: `${base}/sshd.pid`,
    netBatch: `${base}/net.batch`,
  };
};
