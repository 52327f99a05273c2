// casfleet __complete <playbook|hosts|lab|run> [--inventory FILE] [--name LAB]: the candidates the
// completion scripts cannot know themselves, one per line. Called on every Tab, so it reads only
// what it needs and stays silent: a missing inventory, lab or run folder gives no candidates.

import { existsSync, readdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { DYNAMIC_KINDS, type DynamicKind } from '../completion/command-spec.ts';
import { DEFAULT_LAB_NAME, labPaths, labRootDir } from '../lab/lab-layout.ts';
import { EXIT_OK, EXIT_USAGE } from './exit-codes.ts';
import { parseCommandLine } from './parse-options.ts';

const OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  name: { type: 'string' },
} as const;

const PLAYBOOK_EXTENSIONS = new Set(['.ts', '.mjs', '.js']);

// Each kind loads only its own modules: this runs on every Tab.
const builtinPlaybooks = async (): Promise<string[]> => (await import('../playbook/load-playbook.ts')).listBuiltinPlaybooks();

const runIds = async (): Promise<string[]> => (await import('../run-records/run-store.ts')).listRunIds();

// Local playbooks are offered as the paths apply takes: playbooks/<file>.
const localPlaybooks = (cwd: string): string[] => {
  const dir = join(cwd, 'playbooks');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => PLAYBOOK_EXTENSIONS.has(extname(file)) && !file.endsWith('.d.ts'))
    .map((file) => `playbooks/${file}`);
};

const hostsAndGroups = async (inventoryPath: string): Promise<string[]> => {
  const { loadInventory } = await import('../inventory/load-inventory.ts');
  const inventory = await loadInventory(inventoryPath);
  return [...inventory.hosts.keys(), ...inventory.groups.keys()];
};

const labNames = (): string[] => {
  const root = labRootDir();
  if (!existsSync(root)) return [];
  return readdirSync(root).filter((name) => existsSync(labPaths(name).inventory));
};

const candidates = async (kind: DynamicKind, values: { inventory?: string | undefined; name?: string | undefined }): Promise<string[]> => {
  switch (kind) {
    case 'playbook':
      return [...(await builtinPlaybooks()), ...localPlaybooks(process.cwd())];
    case 'hosts':
      return hostsAndGroups(values.inventory ? resolve(values.inventory) : labPaths(values.name ?? DEFAULT_LAB_NAME).inventory);
    case 'lab':
      return labNames();
    case 'run':
      return ['last', ...(await runIds())];
  }
};

const isDynamicKind = (kind: string): kind is DynamicKind => (DYNAMIC_KINDS as readonly string[]).includes(kind);

export const completeCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, OPTIONS, '__complete', DYNAMIC_KINDS);
  const [kind] = positionals;
  if (!kind || !isDynamicKind(kind)) return EXIT_USAGE;
  let words: string[];
  try {
    words = await candidates(kind, values);
  } catch {
    return EXIT_OK;
  }
  if (words.length > 0) process.stdout.write(`${[...new Set(words)].join('\n')}\n`);
  return EXIT_OK;
};
