// loadInventory(): read an Ansible inventory file (YAML/JSON or INI), its group_vars/ and
// host_vars/ directories, check everything, and resolve vars per host. Every problem in every file
// is collected and thrown as one InventoryError, so one run shows the user all there is to fix.
//
// Decisions where casfleet and Ansible differ, on purpose:
// - INI values are typed like YAML flow values (flow-value.ts) instead of Python literals: `yes`
//   and `true` are booleans, `"22"` is a string, `[a, b]` a list. YAML files also read yes/no/on/off
//   as booleans (YAML 1.1, like Ansible), but not 1.1's sexagesimal numbers or timestamps.
// - Things Ansible ignores with at most a warning are errors here: unknown keys in a group, a
//   `hosts` list instead of a mapping, duplicate YAML keys, `[g:vars]` for an undefined group.
// - Inventory directories and vault-encrypted files are not supported (clear errors).
// - An inventory without hosts (an empty file, say) is an error naming the file; Ansible warns
//   and goes on with only an implicit localhost.

import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { InventoryError, type SourceIssue } from '../errors.ts';
import { displayPath } from './display-path.ts';
import { loadVarsDirectory } from './group-vars.ts';
import { parseIniInventory } from './ini-inventory.ts';
import type { ParsedSource } from './inventory-builder.ts';
import { resolveInventory } from './resolve-inventory.ts';
import type { Inventory } from './types.ts';
import { readYamlInventory } from './yaml-inventory.ts';
import { parseYamlYielding } from './yaml-source.ts';

export type InventoryFormat = 'yaml' | 'ini';

/**
 * .yml/.yaml/.json are YAML; .ini/.cfg are INI; anything else (Ansible's classic `hosts`) is
 * YAML only if it starts like YAML: `---`, `{`, or a bare `key:` line such as `all:`.
 */
export const detectInventoryFormat = (path: string, text: string): InventoryFormat => {
  const ext = extname(path).toLowerCase();
  if (['.yml', '.yaml', '.json'].includes(ext)) return 'yaml';
  if (['.ini', '.cfg'].includes(ext)) return 'ini';
  const first =
    text
      .split(/\r?\n/)
      .find((line) => line.trim() !== '' && !/^\s*[#;]/.test(line))
      ?.trim() ?? '';
  return /^(?:---|\{)/.test(first) || /^[\w.-]+:\s*(?:#.*)?$/.test(first) ? 'yaml' : 'ini';
};

/** Keeps files in the order they were read, and each file's issues in line order. */
const inFileOrder = (issues: readonly SourceIssue[]): SourceIssue[] => {
  const files = [...new Set(issues.map((issue) => issue.position?.file ?? ''))];
  const rank = (issue: SourceIssue) => files.indexOf(issue.position?.file ?? '');
  return [...issues].sort(
    (a, b) => rank(a) - rank(b) || (a.position?.line ?? 0) - (b.position?.line ?? 0) || (a.position?.col ?? 0) - (b.position?.col ?? 0),
  );
};

const readInventoryText = async (absolute: string, shown: string): Promise<string> => {
  try {
    return await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InventoryError(`inventory file not found: ${shown}`, []);
    if (code === 'EISDIR')
      throw new InventoryError(`inventory ${shown} is a directory: inventory directories are not supported, give the inventory file`, []);
    throw new InventoryError(`cannot read inventory ${shown}: ${code ?? String(error)}`, [], { cause: error });
  }
};

export const loadInventory = async (path: string): Promise<Inventory> => {
  const absolute = resolve(path);
  const shown = displayPath(absolute);
  const text = await readInventoryText(absolute, shown);
  const parsed: ParsedSource =
    detectInventoryFormat(absolute, text) === 'yaml'
      ? readYamlInventory(await parseYamlYielding(text, shown))
      : parseIniInventory(text, shown);

  const groups = [...parsed.inventory.groups.keys()];
  const hosts = [...parsed.inventory.hosts.keys()];
  const [groupVars, hostVars] = await Promise.all([
    loadVarsDirectory(join(dirname(absolute), 'group_vars'), join(dirname(shown), 'group_vars'), groups, 'group'),
    loadVarsDirectory(join(dirname(absolute), 'host_vars'), join(dirname(shown), 'host_vars'), hosts, 'host'),
  ]);

  const issues = inFileOrder([...parsed.issues, ...groupVars.issues, ...hostVars.issues]);
  // Ansible falls back to an implicit localhost; a fleet tool must not run on nothing by accident.
  if (issues.length === 0 && hosts.length === 0) {
    throw new InventoryError(`inventory ${shown} defines no hosts${text.trim() === '' ? ' (the file is empty)' : ''}`, []);
  }
  if (issues.length > 0) {
    throw new InventoryError(`inventory ${shown} has ${issues.length} problem${issues.length === 1 ? '' : 's'}:`, issues);
  }
  return resolveInventory(absolute, { inventory: parsed.inventory, groupVars: groupVars.byName, hostVars: hostVars.byName }, [
    ...parsed.warnings,
    ...groupVars.warnings,
    ...hostVars.warnings,
  ]);
};
