// The group tree's derived facts: each group's depth, the hosts it holds through its children,
// and the groups each host belongs to in the order Ansible applies their vars.

import { ALL, type ParsedInventory } from './inventory-builder.ts';

export interface GroupGraph {
  /** Hosts of each group, directly or through children, in inventory order. */
  readonly hostsOf: ReadonlyMap<string, readonly string[]>;
  /** Groups of each host (with `all`) sorted by depth, then priority, then name: later wins. */
  readonly groupsOf: ReadonlyMap<string, readonly string[]>;
}

export const buildGroupGraph = (inventory: ParsedInventory): GroupGraph => {
  const parents = new Map<string, string[]>();
  for (const group of inventory.groups.values()) {
    for (const child of group.children) parents.set(child, [...(parents.get(child) ?? []), group.name]);
  }

  // Ansible's depth is the longest path from `all`: a group nested under two parents is as deep
  // as its deepest placement. The builder refuses loops, so the recursion ends.
  const depths = new Map<string, number>();
  const depth = (name: string): number => {
    if (name === ALL) return 0;
    const known = depths.get(name);
    if (known !== undefined) return known;
    const value = 1 + Math.max(0, ...(parents.get(name) ?? []).map(depth));
    depths.set(name, value);
    return value;
  };

  const order = new Map([...inventory.hosts.keys()].map((host, index) => [host, index]));
  const byInventoryOrder = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
  const hostsOf = new Map<string, readonly string[]>();
  const collect = (name: string): readonly string[] => {
    const known = hostsOf.get(name);
    if (known) return known;
    const group = inventory.groups.get(name);
    const hosts = new Set(group?.hosts ?? []);
    for (const child of group?.children ?? []) for (const host of collect(child)) hosts.add(host);
    const sorted = name === ALL ? [...inventory.hosts.keys()] : [...hosts].sort(byInventoryOrder);
    hostsOf.set(name, sorted);
    return sorted;
  };
  for (const name of inventory.groups.keys()) collect(name);

  const priority = (name: string) => inventory.groups.get(name)?.priority ?? 1;
  // Plain code-point comparison, like Python's sort of group names.
  const byPrecedence = (a: string, b: string) => depth(a) - depth(b) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0);
  const groupsOf = new Map<string, string[]>([...inventory.hosts.keys()].map((host) => [host, []]));
  for (const [name, hosts] of hostsOf) for (const host of hosts) groupsOf.get(host)?.push(name);
  for (const groups of groupsOf.values()) groups.sort(byPrecedence);
  return { hostsOf, groupsOf };
};
