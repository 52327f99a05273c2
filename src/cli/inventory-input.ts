// -i/--inventory and -l/--limit as every command reads them. Without -i the embedded default is
// the local lab fleet's inventory, so `casfleet apply scenario-a` works right after `lab up`.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatSourceIssue, UsageError } from '../errors.ts';
import { selectHosts } from '../inventory/host-pattern.ts';
import { patternFileReader } from '../inventory/host-pattern-file.ts';
import { loadInventory } from '../inventory/load-inventory.ts';
import type { Inventory } from '../inventory/types.ts';
import { labPaths } from '../lab/lab-layout.ts';
import { assertTrustedPath } from '../trust/trusted-path.ts';

export interface InventorySelection {
  readonly inventory: Inventory;
  readonly hosts: readonly string[];
}

export const resolveInventoryPath = (given: string | undefined, cwd: string): string => {
  if (given) return resolve(cwd, given);
  const lab = labPaths('default').inventory;
  if (existsSync(lab)) {
    // Used without being named, like a searched config: it must pass the same trust rule.
    assertTrustedPath(lab, 'file', 'the lab inventory (the default without -i)');
    return lab;
  }
  throw new UsageError("no inventory given: use -i FILE (or start the local lab fleet with 'casfleet lab up')");
};

export const loadSelection = async (given: string | undefined, limit: string | undefined, cwd: string): Promise<InventorySelection> => {
  const inventory = await loadInventory(resolveInventoryPath(given, cwd));
  const pattern = limit ?? 'all';
  const hosts = selectHosts(inventory, pattern, patternFileReader(cwd));
  // Warnings (e.g. a group_vars file for a group that does not exist) never stop a run, but go to
  // stderr so they stay out of --json output.
  for (const warning of inventory.warnings ?? []) process.stderr.write(`casfleet: warning: ${formatSourceIssue(warning)}\n`);
  return { inventory, hosts };
};
