// The resolved inventory: what every other module consumes. Loading (YAML/INI, group_vars,
// host_vars, precedence) lives beside this file; nothing here does I/O.

import type { SourceIssue, SourcePosition } from '../errors.ts';

export type Vars = Readonly<Record<string, unknown>>;

export interface InventoryHost {
  readonly name: string;
  /**
   * Variables after Ansible's inventory precedence (see precedence.ts): group vars written in the
   * inventory file (`all`, then parents before children) < group_vars/ files (same group order) <
   * host vars written in the inventory file < host_vars/ files.
   */
  readonly vars: Vars;
  /** Where each winning variable was defined, so validation errors can point at file:line:col. */
  readonly varOrigins: Readonly<Record<string, SourcePosition>>;
  /**
   * Every group the host belongs to, directly or through children, including `all` (and
   * `ungrouped` when it is in no other group), in precedence order: `all` first, then by depth,
   * `ansible_group_priority` and name, so the last group is the one whose vars win.
   */
  readonly groups: readonly string[];
}

export interface InventoryGroup {
  readonly name: string;
  /** Hosts in the group, directly or through children, in inventory order. */
  readonly hosts: readonly string[];
  /**
   * Hosts written in the group itself, in the order written (host patterns list a group's own hosts
   * before its children's, as Ansible does). Absent in hand-built inventories: `hosts` then serves.
   */
  readonly ownHosts?: readonly string[];
  readonly children: readonly string[];
}

export interface Inventory {
  /** Absolute path of the inventory file. */
  readonly source: string;
  /** Hosts in inventory order. */
  readonly hosts: ReadonlyMap<string, InventoryHost>;
  /** Groups in definition order: `all` first, `ungrouped` last. */
  readonly groups: ReadonlyMap<string, InventoryGroup>;
  /** Things Ansible would silently ignore (a group_vars file for an unknown group, …); shown, never fatal. */
  readonly warnings?: readonly SourceIssue[];
}

/** How to reach a host, from the ansible_* connection variables. */
export interface HostConnection {
  readonly address: string;
  /** ansible_port; absent when the inventory leaves it to ssh_config (else 22). */
  readonly port?: number;
  readonly user?: string;
  readonly privateKeyFile?: string;
  readonly become: boolean;
  readonly becomeUser?: string;
  /** ansible_become_password (or _pass): a secret, never shown. */
  readonly becomePassword?: string;
  /** ansible_ssh_common_args and ansible_ssh_extra_args, as written. */
  readonly sshArgs?: string;
}
