// casfleet inventory -i FILE [-l PATTERN] [--json]: the resolved hosts, their merged vars and
// groups, exactly as apply would see them. Nothing is contacted.

import { SECRET_VARS } from '../inventory/connection-vars.ts';
import type { Inventory, Vars } from '../inventory/types.ts';
import { EXIT_OK } from './exit-codes.ts';
import { loadSelection } from './inventory-input.ts';
import { parseCommandLine, refuseSelectionArguments } from './parse-options.ts';

export const INVENTORY_HELP = `Usage: casfleet inventory [-i INVENTORY] [-l PATTERN] [--json]

Show the hosts an inventory resolves to, with their merged vars (Ansible precedence:
group_vars < host vars) and groups. Validates the inventory; errors point at file:line:col.

Options:
  -i, --inventory FILE   Ansible inventory (YAML or INI); default: the local lab's
  -l, --limit PATTERN    only hosts matching the pattern (names, groups, globs, a:b, &grp, !grp, @file)
      --json             {"hosts": {"<name>": {...vars}}, "groups": {"<group>": ["<host>", ...]}}
  -h, --help             show this help

Examples:
  casfleet inventory -i inventories/prod.yml
  casfleet inventory -i inventories/prod.yml -l canary --json
`;

const OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  limit: { type: 'string', short: 'l' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Vars as shown: secrets (ansible_become_password…) masked. */
const shownVars = (vars: Vars): Vars =>
  Object.fromEntries(Object.entries(vars).map(([key, value]) => [key, SECRET_VARS.has(key) ? '********' : value]));

/** The --json shape: selected hosts with their vars, and each group's selected members. */
export const inventoryJson = (inventory: Inventory, hosts: readonly string[]) => {
  const selected = new Set(hosts);
  const groups: Record<string, string[]> = {};
  for (const group of inventory.groups.values()) {
    const members = group.hosts.filter((host) => selected.has(host));
    if (members.length > 0) groups[group.name] = members;
  }
  return {
    hosts: Object.fromEntries(hosts.map((name) => [name, shownVars(inventory.hosts.get(name)!.vars)])),
    groups,
  };
};

export const inventoryCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, 'inventory');
  if (values.help) {
    process.stdout.write(INVENTORY_HELP);
    return EXIT_OK;
  }
  refuseSelectionArguments(positionals);
  const { inventory, hosts } = await loadSelection(values.inventory, values.limit, process.cwd());
  const view = inventoryJson(inventory, hosts);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    return EXIT_OK;
  }
  const lines = [`${inventory.source}: ${hosts.length} host${hosts.length === 1 ? '' : 's'} selected`];
  for (const name of hosts) {
    const host = inventory.hosts.get(name)!;
    lines.push('', `${name}  (groups: ${host.groups.filter((group) => group !== 'all').join(', ') || '-'})`);
    for (const [key, value] of Object.entries(shownVars(host.vars)).sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`    ${key}: ${JSON.stringify(value)}`);
    }
  }
  lines.push('', 'groups:', ...Object.entries(view.groups).map(([group, members]) => `    ${group}: ${members.join(', ')}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
};
