// The architecture's import rules, checked on the imports TypeScript's parser finds (static, type-only,
// re-exports, dynamic import() and require), so a rule cannot be dodged by how an import is written.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { type SourceImport, sourceImports } from './helpers/source-imports.ts';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** Source files by path relative to src/ ("steps/ufw-rules.ts"), with what each imports. */
type ImportGraph = ReadonlyMap<string, readonly SourceImport[]>;

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );

const graphOf = (sources: ReadonlyMap<string, string>): ImportGraph =>
  new Map([...sources].map(([file, text]) => [file, sourceImports(file, text)]));

/** The top-level folder of a src-relative path, or the file itself for files at the top (errors.ts). */
const areaOf = (file: string): string => file.split('/')[0]!;
const isRelative = (specifier: string): boolean => specifier.startsWith('.');
const resolveIn = (file: string, specifier: string): string => normalize(join(dirname(file), specifier));

// Folders whose code only computes: no file system, processes, network, SSH, runner or CLI, not even
// through a module they import at run time (type-only imports are erased and do not count).
const PURE = ['audit', 'bundle', 'cas', 'command', 'completion', 'facts', 'host-timer', 'report', 'rollout', 'steps', 'transaction'];
const IO_MODULE =
  /^(node:(fs|child_process|net|dgram|worker_threads|os|http|https|http2|tls|dns|readline)(\/.*)?|ssh2|node-ssh|cosmiconfig|tsx(\/.*)?|<computed>)$/;
const SSH_LIBRARY = /^(ssh2|node-ssh)$/;
/** Folders only the layer above may import: the CLI drives the runner, configuration, the lab and run records. */
const IMPORTED_ONLY_BY: Readonly<Record<string, readonly string[]>> = {
  cli: [],
  config: ['cli'],
  run: ['cli'],
  lab: ['cli'],
  'run-records': ['cli'],
};
/** src/inventory reads the inventory and variable files in these modules only; the rest parses and resolves. */
const INVENTORY_FILE_READERS = [
  'inventory/extra-vars.ts',
  'inventory/group-vars.ts',
  'inventory/host-pattern-file.ts',
  'inventory/load-inventory.ts',
];
/** I/O src/inventory may do: read files, and know the home directory (a default for `~` in key paths). */
const INVENTORY_IO = /^(node:fs(\/.*)?|node:os)$/;
/** What src/inventory may import from the rest of src/: it is the bottom of the data flow. */
const INVENTORY_MAY_IMPORT = ['errors.ts', 'event-loop-turn.ts', 'inventory'];
/** The only module that imports a computed specifier: the playbook loader, which imports the user's playbook file. */
const COMPUTED_IMPORTERS = ['playbook/load-playbook.ts'];

/**
 * The files `file` loads, transitively, through the imports `follow` accepts: at run time (the
 * default: type-only imports are erased), or before it runs (static ones only: an import() loads
 * when called).
 */
const closureOf = (graph: ImportGraph, file: string, follow = (entry: SourceImport) => !entry.typeOnly): string[] => {
  const seen = new Set([file]);
  const queue = [file];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const entry of graph.get(next) ?? []) {
      if (!follow(entry) || !isRelative(entry.specifier)) continue;
      const target = resolveIn(next, entry.specifier);
      if (seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return [...seen];
};

const isEager = (entry: SourceImport): boolean => !entry.typeOnly && entry.kind !== 'dynamic';

const describe = (file: string, entry: SourceImport): string =>
  `${file} ${entry.kind === 'dynamic' ? 'dynamically imports' : entry.kind === 'require' ? 'requires' : 'imports'} ${entry.specifier}`;

type Edge = {
  readonly file: string;
  readonly area: string;
  readonly entry: SourceImport;
  readonly target?: string;
  readonly targetArea?: string;
};

// A pure folder loads no I/O, directly, through a layer that does I/O, or through any module it reaches.
const pureOffences = (graph: ImportGraph, { file, area, entry, target, targetArea }: Edge): string[] => {
  if (!PURE.includes(area) || entry.typeOnly) return [];
  if (IO_MODULE.test(entry.specifier)) return [`pure ${describe(file, entry)}`];
  if (targetArea && ['ssh', 'run', 'cli', 'lab'].includes(targetArea)) return [`pure ${describe(file, entry)}`];
  if (!target) return [];
  const reached = closureOf(graph, target).flatMap((dep) =>
    (graph.get(dep) ?? []).filter((e) => !e.typeOnly && IO_MODULE.test(e.specifier)).map((e) => `${dep}: ${e.specifier}`),
  );
  return reached.length > 0 ? [`pure ${describe(file, entry)}, which loads I/O (${reached.join(', ')})`] : [];
};

const inventoryOffences = ({ file, area, entry, targetArea }: Edge): string[] => {
  if (area !== 'inventory') return [];
  const offences: string[] = [];
  if (/^node:fs(\/.*)?$/.test(entry.specifier) && !entry.typeOnly && !INVENTORY_FILE_READERS.includes(file))
    offences.push(`inventory file reading outside the loaders: ${describe(file, entry)}`);
  if (targetArea && !INVENTORY_MAY_IMPORT.includes(targetArea))
    offences.push(`inventory depends on nothing above it: ${describe(file, entry)}`);
  if (IO_MODULE.test(entry.specifier) && !INVENTORY_IO.test(entry.specifier))
    offences.push(`inventory does no I/O but reading files: ${describe(file, entry)}`);
  return offences;
};

const sharedOffences = ({ file, area, entry, targetArea }: Edge): string[] => {
  const offences: string[] = [];
  if (SSH_LIBRARY.test(entry.specifier) && area !== 'ssh') offences.push(`only src/ssh/ may use the SSH library: ${describe(file, entry)}`);
  if (entry.specifier === '<computed>' && !COMPUTED_IMPORTERS.includes(file))
    offences.push(`unverifiable import: ${describe(file, entry)}`);
  const importers = targetArea === undefined ? undefined : IMPORTED_ONLY_BY[targetArea];
  if (importers && targetArea !== area && !importers.includes(area))
    offences.push(`src/${targetArea} is for ${importers.join(', ') || 'nobody'} only: ${describe(file, entry)}`);
  return offences;
};

/** Every breach of the layering rules in `graph`; [] when the code keeps them. */
const layeringOffences = (graph: ImportGraph): string[] =>
  [...graph]
    .flatMap(([file, entries]) =>
      entries.map((entry): Edge => {
        const target = isRelative(entry.specifier) ? resolveIn(file, entry.specifier) : undefined;
        return { file, area: areaOf(file), entry, ...(target === undefined ? {} : { target, targetArea: areaOf(target) }) };
      }),
    )
    .flatMap((edge) => [...pureOffences(graph, edge), ...sharedOffences(edge), ...inventoryOffences(edge)])
    .sort();

const realGraph = (): ImportGraph => graphOf(new Map(sourceFiles(SRC).map((file) => [relative(SRC, file), readFileSync(file, 'utf8')])));

test('src/ keeps the layering rules', (t) => {
  t.deepEqual(layeringOffences(realGraph()), []);
});

// Evaluating tsx's API is ~20 ms in one task and ~70 ms of CPU: a run without a TypeScript config or
// playbook must not pay it at start-up, which is main.ts and the command module it picks.
test('the CLI loads tsx only when a TypeScript file needs it, not at start-up', (t) => {
  const graph = realGraph();
  const commands = (graph.get('cli/main.ts') ?? [])
    .filter((entry) => entry.kind === 'dynamic' && isRelative(entry.specifier))
    .map((entry) => resolveIn('cli/main.ts', entry.specifier));
  t.true(commands.includes('cli/apply-command.ts'));
  const eager = ['cli/main.ts', ...commands]
    .flatMap((root) => closureOf(graph, root, isEager))
    .flatMap((file) =>
      (graph.get(file) ?? []).filter((entry) => isEager(entry) && /^tsx(\/|$)/.test(entry.specifier)).map((entry) => describe(file, entry)),
    );
  t.deepEqual([...new Set(eager)], []);
});

test('the rules name folders and files that exist', (t) => {
  const graph = realGraph();
  const areas = new Set([...graph.keys()].map(areaOf));
  t.deepEqual(
    [...PURE, ...Object.keys(IMPORTED_ONLY_BY), ...INVENTORY_MAY_IMPORT].filter((area) => !areas.has(area)),
    [],
  );
  t.deepEqual(
    [...INVENTORY_FILE_READERS, ...COMPUTED_IMPORTERS].filter((file) => !graph.has(file)),
    [],
  );
});

test('the checker reads every form of import', (t) => {
  const imports = sourceImports(
    'x.ts',
    [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C } from './c.ts';",
      "export { d } from './d.ts';",
      "export type { E } from './e.ts';",
      "const f = async () => (await import('./f.ts')).f;",
      "const g = require('./g.cjs');",
      "import h = require('./h.cjs');",
      "let i: typeof import('./i.ts');",
      'const j = async (name: string) => import(name);',
      "import './k.ts';",
    ].join('\n'),
  );
  t.deepEqual(
    imports.map((entry) => `${entry.kind}${entry.typeOnly ? ' type' : ''} ${entry.specifier}`),
    [
      'import ./a.ts',
      'import type ./b.ts',
      'import type ./c.ts',
      'export ./d.ts',
      'export type ./e.ts',
      'dynamic ./f.ts',
      'require ./g.cjs',
      'require ./h.cjs',
      'type type ./i.ts',
      'dynamic <computed>',
      'import ./k.ts',
    ],
  );
});

test('the checker reports a pure folder that imports SSH, even dynamically or through another module', (t) => {
  const graph = graphOf(
    new Map([
      ['steps/sneaky.ts', "export const connect = async () => (await import('ssh2')).Client;"],
      ['steps/indirect.ts', "import { helper } from '../playbook/helper.ts';\nexport const x = helper;"],
      ['playbook/helper.ts', "import { readFileSync } from 'node:fs';\nexport const helper = readFileSync;"],
      ['steps/types-only.ts', "import type { Helper } from '../playbook/helper.ts';\nexport type X = Helper;"],
      ['inventory/parse.ts', "import { readFile } from 'node:fs/promises';\nimport { run } from '../run/run.ts';"],
      ['config/x.ts', "import { main } from '../cli/main.ts';"],
    ]),
  );
  t.deepEqual(layeringOffences(graph), [
    'inventory depends on nothing above it: inventory/parse.ts imports ../run/run.ts',
    'inventory file reading outside the loaders: inventory/parse.ts imports node:fs/promises',
    'only src/ssh/ may use the SSH library: steps/sneaky.ts dynamically imports ssh2',
    'pure steps/indirect.ts imports ../playbook/helper.ts, which loads I/O (playbook/helper.ts: node:fs)',
    'pure steps/sneaky.ts dynamically imports ssh2',
    'src/cli is for nobody only: config/x.ts imports ../cli/main.ts',
    'src/run is for cli only: inventory/parse.ts imports ../run/run.ts',
  ]);
});
