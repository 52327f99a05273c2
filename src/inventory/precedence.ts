// Ansible's inventory variable precedence, lowest first. This is ansible-core's documented order
// and what its default VARIABLE_PRECEDENCE setting does:
//   1. group vars written in the inventory file, for each of the host's groups in group order
//   2. group_vars/ files, for the same groups in the same order
//   3. host vars written in the inventory file
//   4. host_vars/ files
// "Group order" is `all` first, then by depth (parents before children), ansible_group_priority
// (higher wins) and name (later wins). Note that a group_vars/all file therefore beats vars that
// the inventory file writes for any group, even a child group; that surprises people, but it is
// what Ansible does and inventories shared with Ansible must mean the same thing here.

import type { SourcePosition } from '../errors.ts';
import type { ParsedInventory, VarDefinitions } from './inventory-builder.ts';
import type { Vars } from './types.ts';

export interface VarSources {
  readonly inventory: ParsedInventory;
  readonly groupVars: ReadonlyMap<string, VarDefinitions>;
  readonly hostVars: ReadonlyMap<string, VarDefinitions>;
}

/** The var layers that apply to a host, lowest precedence first. */
export const varLayers = (host: string, groups: readonly string[], sources: VarSources): VarDefinitions[] => {
  const layers: (VarDefinitions | undefined)[] = [
    ...groups.map((group) => sources.inventory.groups.get(group)?.vars),
    ...groups.map((group) => sources.groupVars.get(group)),
    sources.inventory.hosts.get(host),
    sources.hostVars.get(host),
  ];
  return layers.filter((layer): layer is VarDefinitions => layer !== undefined);
};

export interface MergedVars {
  readonly vars: Vars;
  readonly varOrigins: Readonly<Record<string, SourcePosition>>;
}

/** Later layers replace whole values (Ansible's default hash_behaviour=replace: no deep merge). */
export const mergeVarLayers = (layers: readonly VarDefinitions[]): MergedVars => {
  const vars: Record<string, unknown> = {};
  const varOrigins: Record<string, SourcePosition> = {};
  for (const layer of layers) {
    for (const [name, definition] of layer) {
      vars[name] = definition.value;
      varOrigins[name] = definition.position;
    }
  }
  return { vars, varOrigins };
};
