// Which known_hosts file vouches for a host's key, first found wins: --known-hosts, the inventory
// var casfleet_known_hosts, the config's knownHosts, ssh_config's UserKnownHostsFile, ~/.ssh/known_hosts.
//
// casfleet_known_hosts stays (the lab's inventory uses it so lab host keys never mix with the
// operator's ~/.ssh/known_hosts), but since it moves host-key trust it is held to more than a
// playbook var: a relative path is taken from the inventory file's directory (not from wherever
// casfleet happens to run), the file must exist and pass the trust rule, and it cannot come from
// -e, where it used to be accepted and then ignored: --known-hosts is the command-line way.

import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { InventoryError, UsageError } from '../errors.ts';
import type { InventoryHost } from '../inventory/types.ts';
import type { ExtraVars } from '../playbook/host-vars.ts';
import { assertTrustedPath } from '../trust/trusted-path.ts';

export const KNOWN_HOSTS_VAR = 'casfleet_known_hosts';

/** -e casfleet_known_hosts (or the same key in an -e @file) is a usage error naming the flag to use. */
export const refuseKnownHostsExtraVar = (extra: ExtraVars): void => {
  if (KNOWN_HOSTS_VAR in extra.vars) {
    throw new UsageError(`${KNOWN_HOSTS_VAR} cannot be set with -e; use --known-hosts FILE to choose the known_hosts file for this run`);
  }
};

const expandHome = (path: string, home: string): string => (path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path);

const badVar = (host: InventoryHost, message: string): InventoryError => {
  const position = host.varOrigins[KNOWN_HOSTS_VAR];
  return new InventoryError(
    `host ${host.name}: bad ${KNOWN_HOSTS_VAR}`,
    [{ ...(position ? { position } : {}), path: KNOWN_HOSTS_VAR, message }],
    { host: host.name },
  );
};

/** The known_hosts file the inventory names for `host`, absolute; undefined when it names none. */
export const inventoryKnownHosts = (host: InventoryHost, inventorySource: string, home: string = homedir()): string | undefined => {
  const value = host.vars[KNOWN_HOSTS_VAR];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw badVar(host, 'must be the path of a known_hosts file');
  return resolve(dirname(inventorySource), expandHome(value, home));
};

/**
 * Every distinct file the inventory names (`paths`: host name → path) must exist and pass the trust
 * rule; each is checked once, and an error points at the first host naming it.
 */
export const checkInventoryKnownHosts = (hosts: readonly InventoryHost[], paths: ReadonlyMap<string, string | undefined>): void => {
  const checked = new Set<string>();
  for (const host of hosts) {
    const path = paths.get(host.name);
    if (path === undefined || checked.has(path)) continue;
    checked.add(path);
    if (!existsSync(path)) throw badVar(host, `${path} does not exist (a relative path is taken from the inventory file's directory)`);
    assertTrustedPath(path, 'file', `the known_hosts file named by ${KNOWN_HOSTS_VAR} (host ${host.name})`);
  }
};

/**
 * The known_hosts file each host's inventory names (host name → absolute path), checked; empty when
 * --known-hosts (`flag`) overrides them all. Where it ranks against the other sources is decided
 * with OpenSSH's other settings (connect-targets.ts).
 */
export const inventoryKnownHostsOf = (
  hosts: readonly InventoryHost[],
  inventorySource: string,
  flag: string | undefined,
): ReadonlyMap<string, string | undefined> => {
  const paths = new Map(flag === undefined ? hosts.map((host) => [host.name, inventoryKnownHosts(host, inventorySource)] as const) : []);
  checkInventoryKnownHosts(hosts, paths);
  return paths;
};
