// The resolved inventory: what every other module consumes. Loading (YAML/INI, group_vars,
// host_vars, precedence) lives beside this file; nothing here does I/O.

import type { SourcePosition } from '../errors.ts';

export type Vars = Readonly<Record<string, unknown>>;

export interface InventoryHost {
  readonly name: string;
  /** Variables after Ansible's precedence (all < parent group < child group < host; files beside the inventory win over inline vars of the same level). */
  readonly vars: Vars;
  /** Where each winning variable was defined, so validation errors can point at file:line:col. */
  readonly varOrigins: Readonly<Record<string, SourcePosition>>;
  /** Every group the host belongs to, directly or through children, including `all`. */
  readonly groups: readonly string[];
}

export interface InventoryGroup {
  readonly name: string;
  /** Hosts in the group, directly or through children, in inventory order. */
  readonly hosts: readonly string[];
  readonly children: readonly string[];
}

export interface Inventory {
  /** Absolute path of the inventory file. */
  readonly source: string;
  /** Hosts in inventory order. */
  readonly hosts: ReadonlyMap<string, InventoryHost>;
  readonly groups: ReadonlyMap<string, InventoryGroup>;
}

/** How to reach a host, from the ansible_* connection variables. */
export interface HostConnection {
  readonly address: string;
  readonly port: number;
  readonly user?: string;
  readonly privateKeyFile?: string;
  readonly become: boolean;
  readonly becomeUser?: string;
}
