// casfleet init [DIR]: start a project for a fleet: an inventory to fill in, an example playbook, a
// config file and a package.json (a module package, so .ts playbooks load as ES modules). The files
// are the ones the repository keeps and tests (inventories/, templates/starter/); an existing file
// is never overwritten: if any is there, nothing is written.

import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { displayPath } from '../inventory/display-path.ts';
import { PACKAGE_ROOT, packageInfo } from '../package-info.ts';
import { EXIT_OK } from './exit-codes.ts';
import { parseCommandLine } from './parse-options.ts';

export const INIT_HELP = `Usage: casfleet init [DIR]

Start a casfleet project in DIR (default: the current directory): inventory.yml (an example fleet
to replace with your servers) and group_vars/, playbooks/gate-slots.ts (an example playbook),
casfleet.config.yaml (settings; flags win) and a package.json that depends on casfleet.
Existing files are never overwritten: if one is in the way, nothing is written.

Examples:
  casfleet init my-fleet
  casfleet init
`;

interface StarterFile {
  readonly path: string;
  readonly about: string;
  /** The package file it is a copy of; the package.json is written from `packageJson` instead. */
  readonly from?: string;
}

const STARTER_FILES: readonly StarterFile[] = [
  { path: 'inventory.yml', from: 'inventories/prod.example.yml', about: 'your servers (replace the example fleet)' },
  {
    path: 'group_vars/hardware_vpn.yml',
    from: 'inventories/group_vars/hardware_vpn.yml',
    about: 'vars of every host in group hardware_vpn',
  },
  { path: 'playbooks/gate-slots.ts', from: 'templates/starter/playbooks/gate-slots.ts', about: 'an example playbook' },
  { path: 'casfleet.config.yaml', from: 'templates/starter/casfleet.config.yaml', about: 'settings (flags win)' },
  { path: 'package.json', about: 'a module package depending on casfleet' },
];

// npm package names: lowercase, no spaces, not starting with a dot or an underscore.
const projectName = (dir: string): string =>
  basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '') || 'casfleet-project';

export const starterPackageJson = (name: string, casfleetVersion: string): string =>
  `${JSON.stringify(
    {
      name,
      private: true,
      type: 'module',
      description: 'Inventory and playbooks for casfleet',
      dependencies: { casfleet: `^${casfleetVersion}` },
    },
    null,
    2,
  )}\n`;

/**
 * The first path on the way to `dir` that exists but is not a directory (DIR itself a file, or a
 * file named `playbooks` where playbooks/ goes): found before anything is written, so that init
 * fails with nothing written instead of half-way through.
 */
const blockingFile = (dir: string): string | undefined => {
  for (let path = dir; ; path = dirname(path)) {
    if (existsSync(path)) return statSync(path).isDirectory() ? undefined : path;
    if (dirname(path) === path) return undefined;
  }
};

export const initCommand = async (argv: readonly string[]): Promise<number> => {
  const { values, positionals } = parseCommandLine(argv, { help: { type: 'boolean', short: 'h' } } as const, 'init');
  if (values.help) {
    process.stdout.write(INIT_HELP);
    return EXIT_OK;
  }
  if (positionals.length > 1) throw new UsageError(`init takes one directory, got: ${positionals.join(' ')}`);
  const dir = resolve(positionals[0] ?? '.');
  const existing = STARTER_FILES.filter((file) => existsSync(join(dir, file.path)));
  if (existing.length > 0) {
    throw new UsageError(
      `${displayPath(dir)} already has ${existing.map((file) => file.path).join(', ')}: nothing was written (casfleet init never overwrites a file)`,
    );
  }
  const blocking = [...new Set(STARTER_FILES.map((file) => blockingFile(dirname(join(dir, file.path)))))].filter(
    (path): path is string => path !== undefined,
  );
  if (blocking.length > 0) {
    throw new UsageError(
      `${blocking.map((path) => displayPath(path)).join(', ')} ${blocking.length > 1 ? 'are files' : 'is a file'} where casfleet init needs a directory: nothing was written`,
    );
  }
  const { version } = packageInfo();
  const written: string[] = [];
  for (const file of STARTER_FILES) {
    const target = join(dir, file.path);
    const content = file.from ? readFileSync(join(PACKAGE_ROOT, file.from), 'utf8') : starterPackageJson(projectName(dir), version);
    try {
      mkdirSync(dirname(target), { recursive: true });
      // 'wx': a file that appeared since the check above is still not overwritten.
      writeFileSync(target, content, { flag: 'wx' });
    } catch (error) {
      // A directory without write permission, a full disk, a file that appeared meanwhile: the
      // operator's problem to fix, told as such (no stack), with what was already written.
      const { code, message } = error as NodeJS.ErrnoException;
      throw new UsageError(
        `cannot write ${displayPath(target)} (${code ?? message}): ${written.length === 0 ? 'nothing was written' : `only ${written.join(', ')} ${written.length > 1 ? 'were' : 'was'} written`}`,
        { cause: error },
      );
    }
    written.push(file.path);
  }
  const width = Math.max(...STARTER_FILES.map((file) => file.path.length)) + 2;
  const shown = displayPath(dir);
  process.stdout.write(
    [
      `casfleet project in ${shown}:`,
      ...STARTER_FILES.map((file) => `  ${file.path.padEnd(width)}${file.about}`),
      '',
      'next:',
      ...(dir === process.cwd() ? [] : [`  cd ${shown}`]),
      '  casfleet inventory -i inventory.yml                          # once your servers are in it',
      '  casfleet apply playbooks/gate-slots.ts -i inventory.yml --check',
      "  npm link casfleet                                            # optional: casfleet's types for your editor",
      '',
    ].join('\n'),
  );
  return EXIT_OK;
};
