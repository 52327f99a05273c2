// Assembles the Inventory every other module consumes from what the file said plus the
// group_vars/host_vars files, applying precedence.ts per host.

import type { SourceIssue } from '../errors.ts';
import { buildGroupGraph } from './group-graph.ts';
import { mergeVarLayers, type VarSources, varLayers } from './precedence.ts';
import type { Inventory, InventoryGroup, InventoryHost } from './types.ts';

export const resolveInventory = (source: string, sources: VarSources, warnings: readonly SourceIssue[] = []): Inventory => {
  const graph = buildGroupGraph(sources.inventory);
  const hosts = new Map<string, InventoryHost>();
  for (const name of sources.inventory.hosts.keys()) {
    const groups = graph.groupsOf.get(name) ?? [];
    hosts.set(name, { name, groups, ...mergeVarLayers(varLayers(name, groups, sources)) });
  }
  const groups = new Map<string, InventoryGroup>();
  for (const group of sources.inventory.groups.values()) {
    groups.set(group.name, {
      name: group.name,
      hosts: graph.hostsOf.get(group.name) ?? [],
      ownHosts: group.hosts,
      children: group.children,
    });
  }
  return { source, hosts, groups, ...(warnings.length > 0 ? { warnings } : {}) };
};
